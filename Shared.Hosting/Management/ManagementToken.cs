using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

using SocketStarter.Shared.Hosting;

namespace SocketStarter.Shared.Hosting.Management;

/// <summary>
/// The bearer token that <c>POST /cmd</c> requires: <c>MANAGEMENT_TOKEN</c> when given, else the one in
/// <c>MANAGEMENT_TOKEN_FILE</c> (default <c>data/management.token</c> under the working folder), which the first
/// node to start creates, readable by its owner only. <c>ssctl</c> finds it the same way.
/// </summary>
public static class ManagementToken
{
    public const string DefaultFile = "data/management.token";
    private const int MinimumLength = 16;

    /// <summary>The node's token, created in the token file if there is none yet.</summary>
    public static string ForNode(IConfiguration configuration)
    {
        if (configuration["MANAGEMENT_TOKEN"] is { Length: > 0 } given)
            return given.Length >= MinimumLength
                ? given
                : throw new SettingException($"MANAGEMENT_TOKEN must be at least {MinimumLength} characters.");
        var path = TokenFile(configuration["MANAGEMENT_TOKEN_FILE"]);
        if (ReadFile(path) is { } existing) return existing;

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var fresh = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var temporary = $"{path}.{Environment.ProcessId}";
        File.WriteAllText(temporary, fresh + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            // Two nodes starting at once: the first file in place wins, the other node reads it.
            File.Move(temporary, path, overwrite: false);
            return fresh;
        }
        catch (IOException) when (ReadFile(path) is { } winner)
        {
            File.Delete(temporary);
            return winner;
        }
    }

    /// <summary>The token ssctl sends: MANAGEMENT_TOKEN, else the token file's; null when there is neither.</summary>
    public static string? ForClient() =>
        Environment.GetEnvironmentVariable("MANAGEMENT_TOKEN") is { Length: > 0 } given ? given
        : ReadFile(TokenFile(Environment.GetEnvironmentVariable("MANAGEMENT_TOKEN_FILE")));

    private static string TokenFile(string? configured) => Path.GetFullPath(configured is { Length: > 0 } ? configured : DefaultFile);

    private static string? ReadFile(string path) =>
        File.Exists(path) && File.ReadAllText(path).Trim() is { Length: >= MinimumLength } token ? token : null;

    /// <summary>Compares in constant time, so the answer's timing says nothing about the token.</summary>
    public static bool Matches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(presented));
}
