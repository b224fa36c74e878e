using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Gateway.Frontend.Operations;

/// <summary>
/// Whether this frontend takes connections: a cluster member, its sharding proxies started, not draining. The
/// WebSocket endpoints ask before they accept a socket; the readiness check (the load balancer's) reports the same.
/// </summary>
public sealed class FrontendReadiness(ActorSystem system, ActorRegistry registry, FrontendDrain drain) : IHealthCheck
{
    /// <summary>Why no connection is taken now; null when one is.</summary>
    public string? NotAccepting()
    {
        if (drain.Draining) return "draining: clients are asked to resume elsewhere";
        var cluster = Cluster.Get(system);
        // A downed frontend's own view still says Up: its cluster shuts down without publishing its own removal, and
        // a socket accepted then found no actor system to serve it (the client lost a connection attempt; the
        // balancer cannot retry an upgraded request).
        if (cluster.IsTerminated || cluster.SelfMember.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp))
            return "not a cluster member now (joining, downed or leaving)";
        return registry.TryGet<ShardRegions.SessionRegion>(out _) ? null : "sharding proxies not started";
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(NotAccepting() is { } reason ? HealthCheckResult.Unhealthy(reason) : HealthCheckResult.Healthy("accepting connections"));
}
