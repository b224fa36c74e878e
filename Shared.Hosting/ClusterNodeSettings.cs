using Microsoft.Extensions.Configuration;

namespace SocketStarter.Shared.Hosting;

/// <summary>Where a node listens and whom it joins: what a deployer sets through the environment.</summary>
public sealed record ClusterNodeSettings(string Role, string Host, string? PublicHost, int Port, IReadOnlyList<string> Seeds)
{
    public const string SystemName = "socketstarter";
    public const string FrontendRole = "frontend";
    public const string BackendRole = "backend";
    public const int DefaultFrontendPort = 4053;

    /// <summary>Reads AKKA_HOST, AKKA_PUBLIC_HOST, AKKA_PORT and AKKA_SEEDS (comma-separated addresses).</summary>
    public static ClusterNodeSettings FromConfiguration(IConfiguration configuration, string role, int defaultPort)
    {
        var read = new SettingsReader(configuration);
        var host = read.Text("AKKA_HOST", "127.0.0.1");
        var port = read.Int("AKKA_PORT", defaultPort, min: 0, max: 65535);
        var seeds = (configuration["AKKA_SEEDS"] is { Length: > 0 } s
                ? s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [$"akka.tcp://{SystemName}@127.0.0.1:{DefaultFrontendPort}"])
            .Select(NormalizeSeed)
            .ToArray();
        return new ClusterNodeSettings(role, host, configuration["AKKA_PUBLIC_HOST"], port, seeds);
    }

    /// <summary>
    /// A node that was downed starts over joining the others: as the first seed it would form a cluster of its own
    /// when it cannot reach the others at once (it was downed because it could not), so it leaves itself out.
    /// </summary>
    public ClusterNodeSettings StartingOver()
    {
        var self = $"akka.tcp://{SystemName}@{PublicHost ?? Host}:{Port}";
        var others = Seeds.Where(seed => !string.Equals(seed, self, StringComparison.OrdinalIgnoreCase)).ToArray();
        return others.Length > 0 ? this with { Seeds = others } : this;
    }

    /// <summary>Accepts a full address or a bare host:port.</summary>
    private static string NormalizeSeed(string seed)
    {
        var address = seed.Contains("://") ? seed : $"akka.tcp://{SystemName}@{seed}";
        if (!Akka.Actor.Address.TryParse(address, out var parsed) || parsed.Port is null)
            throw new SettingException($"AKKA_SEEDS entry '{seed}' is not an address like akka.tcp://{SystemName}@host:port or host:port");
        return address;
    }
}
