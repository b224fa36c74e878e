using System.Diagnostics.Metrics;

namespace SocketStarter.Shared.Hosting.Management;

/// <summary>The application's own metrics, exported in Prometheus text at <c>/metrics</c>.</summary>
public static class SocketStarterMetrics
{
    public const string MeterName = "SocketStarter";
    private static readonly Meter Meter = new(MeterName);

    public static readonly UpDownCounter<long> OpenConnections =
        Meter.CreateUpDownCounter<long>("socketstarter.connections.open", description: "client connections open on this frontend");
    public static readonly Counter<long> FramesIn =
        Meter.CreateCounter<long>("socketstarter.frames.in", description: "client frames read");
    public static readonly Counter<long> FramesOut =
        Meter.CreateCounter<long>("socketstarter.frames.out", description: "frames queued to clients");
    public static readonly UpDownCounter<long> FramesHeld =
        Meter.CreateUpDownCounter<long>("socketstarter.frames.held", description: "client frames read and not yet acknowledged by a backend");
    public static readonly Counter<long> StandingQueueIntervals =
        Meter.CreateCounter<long>("socketstarter.queues.standing", description: "quarter seconds in which nearly every client frame waited for a backend (overload: one frame may wait per client)");
    public static readonly Counter<long> Deliveries =
        Meter.CreateCounter<long>("socketstarter.topic.deliveries", description: "topic frames handed to local subscribers' connections");
    public static readonly Counter<long> HandOffs =
        Meter.CreateCounter<long>("socketstarter.entity.handoffs", description: "entities stopped for a shard hand-off");

    /// <summary>1 while a backend is an Up, reachable member; read when scraped.</summary>
    public static void ObserveBackendReachable(Func<bool> reachable) =>
        Meter.CreateObservableGauge("socketstarter.backend.reachable", () => reachable() ? 1 : 0,
            description: "1 while at least one backend is up and reachable");
}
