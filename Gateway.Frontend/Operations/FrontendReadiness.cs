using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Gateway.Frontend.Operations;

/// <summary>Ready to take connections: the sharding proxies are started and the frontend is not draining (the
/// cluster readiness check adds: an Up member).</summary>
public sealed class FrontendReadiness(ActorRegistry registry, FrontendDrain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            drain.Draining ? HealthCheckResult.Unhealthy("draining: clients are asked to resume elsewhere")
            : !registry.TryGet<ShardRegions.SessionRegion>(out _) ? HealthCheckResult.Unhealthy("sharding proxies not started")
            : HealthCheckResult.Healthy("accepting connections"));
}
