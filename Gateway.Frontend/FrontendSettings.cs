using SocketStarter.Shared.Hosting;

namespace SocketStarter.Gateway.Frontend;

/// <summary>How a frontend holds client traffic while no backend can take it.</summary>
public sealed record FrontendSettings(
    TimeSpan HoldLimit,
    int MaxHeldFrames,
    int MaxQueuedWhileBusy,
    TimeSpan MaxQueueWait,
    int InboundBuffer,
    int OutboundLimit,
    TimeSpan FirstRetry,
    TimeSpan MaxRetry,
    TimeSpan AlsoToMovedSession,
    double FramesPerSecond,
    int FrameBurst,
    int MaxConnectionsPerAddress)
{
    public const int MaxFrameBytes = 64 * 1024;

    /// <summary>Every frontend tunable a deployer may set, with its default, its range and why (docs/security.md).</summary>
    public static FrontendSettings FromConfiguration(IConfiguration configuration)
    {
        var read = new SettingsReader(configuration);
        return new(
            // Long enough for a backend restart or a shard hand-off (seconds); past it the client hears `unavailable`.
            HoldLimit: read.Seconds("HOLD_LIMIT_SECONDS", 30, min: 1, max: 3600),
            // Frames held per connection while no backend answers; then its socket is not read (TCP pushes back).
            MaxHeldFrames: read.Int("MAX_HELD_FRAMES", 256, min: 1, max: 100_000),
            // Frames waiting for a backend that answers promptly: more means the client floods (`rate_limited`).
            MaxQueuedWhileBusy: read.Int("MAX_QUEUED_WHILE_BUSY", 64, min: 1, max: 1_000_000),
            // Behind a backend that answers every frame but slowly (overloaded), a frame that would wait longer than
            // this is answered `rate_limited`: the senders are slowed and the wait of what is accepted stays bounded.
            // At 1000 x 8 (twice the knee, bench/run.sh --steady, 4 runs each) 500 ms gave p50 0.78-0.88 s and p99
            // 1.49-1.77 s, 250 ms p50 0.54-0.63 s and p99 1.00-1.45 s, as many refused and as much delivered; no
            // refusal at 1000 x 4 or 200 x 5 with either. The full run after it: p50 0.56 s, p99 1.83 s (0.93 and
            // 1.62 s before): the median falls; the tail waits in this queue past the rule (docs/benchmarks.md).
            MaxQueueWait: TimeSpan.FromMilliseconds(read.Int("MAX_QUEUE_WAIT_MS", 250, min: 10, max: 3_600_000)),
            // Frames read ahead of the connection actor: one socket read burst; more only costs memory.
            InboundBuffer: 16,
            // Frames queued to a slow reader before it is closed with 1013.
            OutboundLimit: read.Int("OUTBOUND_QUEUE_FRAMES", 1024, min: 16, max: 1_000_000),
            // Resend of an unacknowledged envelope: a shard hand-off takes a few hundred ms; back off to 2 s.
            FirstRetry: TimeSpan.FromMilliseconds(300),
            MaxRetry: TimeSpan.FromSeconds(2),
            // After a session announced its new incarnation, steps also go to it directly for this long: a session
            // proxy was seen routing to the old home for 1.2-1.4 s after the announcement (debug logs of the
            // namespace test's cut-off backend); twice that.
            AlsoToMovedSession: TimeSpan.FromSeconds(3),
            // A person types far below 20 frames/s; a pasted block of 100 lines still passes at once.
            FramesPerSecond: read.Number("FRAMES_PER_SECOND", 20, min: 0.1, max: 1_000_000),
            FrameBurst: read.Int("FRAME_BURST", 100, min: 1, max: 1_000_000),
            // A household or office behind one NAT address; a load balancer in front must pass the client's address on.
            MaxConnectionsPerAddress: read.Int("MAX_CONNECTIONS_PER_ADDRESS", 200, min: 1, max: 10_000_000));
    }
}
