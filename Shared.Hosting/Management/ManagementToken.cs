using System.Security.Cryptography;
using System.Text;
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
        try
        {
            // Created exclusively (O_EXCL): of nodes starting at once exactly one writes the file and the others read
            // it. A rename into place could replace a token another node already serves with (ssctl then refused by it).
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var file = new FileStream(path, options);
            file.Write(Encoding.ASCII.GetBytes(fresh + "\n"));
            return fresh;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another node created it a moment ago: its token is there once it has written it.
            for (var attempt = 0; attempt < 100; attempt++)
            {
                if (ReadFile(path) is { } winner) return winner;
                Thread.Sleep(10);
            }
            throw new SettingException($"{path} holds no management token (at least {MinimumLength} characters).");
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
