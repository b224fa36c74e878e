using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Management.Dsl;
using Newtonsoft.Json;

namespace SocketStarter.Shared.Hosting.Membership;

/// <summary>
/// Cluster formation without fixed seeds: Akka.Management's Cluster Bootstrap with config discovery. The contact points
/// are the frontends' management endpoints, so a frontend forms the cluster (the lowest one, once all of them answer)
/// and every other node joins what they report. Akka.Management's own HTTP server is not started (its Ceen.Httpd
/// version is not served here): the nodes serve its contact-point route, <c>/bootstrap/seed-nodes</c>, from their
/// management endpoint, in the JSON its probes read.
/// </summary>
public static class ClusterBootstrapping
{
    private const string ServiceName = "socketstarter-frontends";

    /// <summary>The discovery and bootstrap settings for these contact points.</summary>
    public static string Hocon(IReadOnlyList<string> contactPoints) => $$"""
        akka.discovery.config.services.{{ServiceName}}.endpoints = [{{string.Join(", ", contactPoints.Select(c => $"\"{c}\""))}}]
        akka.management.cluster.bootstrap {
          contact-point-discovery {
            discovery-method = config
            service-name = {{ServiceName}}
            # A new cluster is formed only once every frontend listed answers (the lowest forms it); an existing
            # cluster reported by any of them is joined at once.
            required-contact-point-nr = {{contactPoints.Count}}
            # Defaults 5 s and 1 s: a static list does not change, so a second of agreement is enough.
            stable-margin = 1s
            interval = 500ms
          }
          contact-point {
            # The contact points carry their ports (the management endpoints'), not Akka.Management's default one.
            filter-on-fallback-port = false
            probe-interval = 500ms
          }
        }
        """;

    /// <summary>Starts the bootstrap; <paramref name="managementUrl"/> is this node's own contact point.</summary>
    public static Task StartAsync(ActorSystem system, Uri managementUrl)
    {
        var bootstrap = ClusterBootstrap.Get(system);
        // Routes() is how Akka.Management tells the bootstrap its own contact point; the routes themselves are served
        // by SeedNodesJson.
        bootstrap.Routes(ManagementRouteProviderSettings.Create(managementUrl, readOnly: true));
        return bootstrap.Start();
    }

    /// <summary>
    /// What a contact point answers to a probe (Akka.Management's <c>HttpClusterBootstrapRoutes</c>): this node and the
    /// members it can reach (none before it joined: that is how the others learn there is no cluster yet), or null
    /// (503) while it is leaving or down. Not Akka.Management's check of its own status: a node that has not joined is
    /// <c>Removed</c> there, and its answer 503, so no node ever formed a cluster.
    /// </summary>
    public static string? SeedNodesJson(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        if (cluster.IsTerminated || cluster.SelfMember.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving)
            return null;
        var state = cluster.State;
        var members = state.Members
            .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
            .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToImmutableList();
        return JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(cluster.SelfAddress, members));
    }
}
