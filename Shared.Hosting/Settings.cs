using Microsoft.Extensions.Configuration;

namespace SocketStarter.Shared.Hosting;

/// <summary>A setting that cannot be used: the message names the variable, what it accepts and what it got.</summary>
public sealed class SettingException(string message) : Exception(message);

/// <summary>
/// Reads a node's settings from configuration (environment variables by their documented names), each with its
/// default and the range it accepts. A bad value is a <see cref="SettingException"/> at start, not a late failure.
/// </summary>
public sealed class SettingsReader(IConfiguration configuration)
{
    public int Int(string name, int fallback, int min, int max)
    {
        if (Value(name) is not { } text) return fallback;
        return int.TryParse(text, out var value) && value >= min && value <= max
            ? value
            : throw new SettingException($"{name} must be a whole number from {min} to {max}, got '{text}'.");
    }

    public double Number(string name, double fallback, double min, double max)
    {
        if (Value(name) is not { } text) return fallback;
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
               && value >= min && value <= max
            ? value
            : throw new SettingException($"{name} must be a number from {min} to {max}, got '{text}'.");
    }

    public TimeSpan Seconds(string name, double fallback, double min, double max) => TimeSpan.FromSeconds(Number(name, fallback, min, max));

    public string Text(string name, string fallback) => Value(name) ?? fallback;

    /// <summary>A variable set to nothing (or only spaces) is unset: its default applies.</summary>
    private string? Value(string name) => string.IsNullOrWhiteSpace(configuration[name]) ? null : configuration[name];

    /// <summary>Builds a role's settings, or stops the process with the setting's message (exit code 2).</summary>
    public static T OrExit<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (SettingException e)
        {
            Console.Error.WriteLine($"Cannot start: {e.Message}");
            Environment.Exit(2);
            throw; // not reached
        }
    }
}
