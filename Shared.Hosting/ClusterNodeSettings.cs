using Microsoft.Extensions.Configuration;

namespace SocketStarter.Shared.Hosting;

/// <summary>
/// Where a node listens and whom it joins: what a deployer sets through the environment. A node joins either fixed
/// <paramref name="Seeds"/> or, with <paramref name="ContactPoints"/>, the cluster that Cluster Bootstrap finds
/// through those management endpoints (config discovery).
/// </summary>
public sealed record ClusterNodeSettings(string Role, string Host, string? PublicHost, int Port, IReadOnlyList<string> Seeds,
    IReadOnlyList<string> ContactPoints)
{
    public const string SystemName = "socketstarter";
    public const string FrontendRole = "frontend";
    public const string BackendRole = "backend";
    public const int DefaultFrontendPort = 4053;

    /// <summary>
    /// Reads AKKA_HOST, AKKA_PUBLIC_HOST, AKKA_PORT, and AKKA_SEEDS (comma-separated addresses) or
    /// AKKA_BOOTSTRAP_CONTACT_POINTS (comma-separated host:port of the frontends' management endpoints).
    /// </summary>
    public static ClusterNodeSettings FromConfiguration(IConfiguration configuration, string role, int defaultPort)
    {
        var read = new SettingsReader(configuration);
        var host = read.Text("AKKA_HOST", "127.0.0.1");
        var port = read.Int("AKKA_PORT", defaultPort, min: 0, max: 65535);
        var contactPoints = Split(configuration["AKKA_BOOTSTRAP_CONTACT_POINTS"]).Select(NormalizeContactPoint).ToArray();
        if (contactPoints.Length > 0 && configuration["AKKA_SEEDS"] is { Length: > 0 })
            throw new SettingException("Set AKKA_SEEDS or AKKA_BOOTSTRAP_CONTACT_POINTS, not both");
        var seeds = contactPoints.Length > 0
            ? []
            : (configuration["AKKA_SEEDS"] is { Length: > 0 } s ? Split(s) : [$"akka.tcp://{SystemName}@127.0.0.1:{DefaultFrontendPort}"])
                .Select(NormalizeSeed)
                .ToArray();
        return new ClusterNodeSettings(role, host, configuration["AKKA_PUBLIC_HOST"], port, seeds, contactPoints);
    }

    private static string[] Split(string? list) =>
        list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static string NormalizeContactPoint(string contactPoint)
    {
        var colon = contactPoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(contactPoint[(colon + 1)..], out var port) || port is < 1 or > 65535)
            throw new SettingException($"AKKA_BOOTSTRAP_CONTACT_POINTS entry '{contactPoint}' is not a host:port (a frontend's management endpoint)");
        return contactPoint;
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
