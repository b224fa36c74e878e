namespace SocketStarter.Frontend;

/// <summary>How a frontend holds client traffic while no backend can take it.</summary>
public sealed record FrontendSettings(
    TimeSpan HoldLimit,
    int MaxHeldFrames,
    int MaxQueuedWhileBusy,
    int InboundBuffer,
    int OutboundLimit,
    TimeSpan FirstRetry,
    TimeSpan MaxRetry,
    double FramesPerSecond,
    int FrameBurst,
    int MaxConnectionsPerAddress)
{
    public const int MaxFrameBytes = 64 * 1024;

    public static FrontendSettings FromConfiguration(IConfiguration configuration) => new(
        HoldLimit: TimeSpan.FromSeconds(configuration.GetValue("HOLD_LIMIT_SECONDS", 30.0)),
        MaxHeldFrames: configuration.GetValue("MAX_HELD_FRAMES", 256),
        MaxQueuedWhileBusy: configuration.GetValue("MAX_QUEUED_WHILE_BUSY", 64),
        InboundBuffer: 16,
        OutboundLimit: configuration.GetValue("OUTBOUND_QUEUE_FRAMES", 1024),
        FirstRetry: TimeSpan.FromMilliseconds(300),
        MaxRetry: TimeSpan.FromSeconds(2),
        // A person types far below 20 frames/s; a pasted block of 100 lines still passes at once.
        FramesPerSecond: configuration.GetValue("FRAMES_PER_SECOND", 20.0),
        FrameBurst: configuration.GetValue("FRAME_BURST", 100),
        // A household or office behind one NAT address; a load balancer in front must pass the client's address on.
        MaxConnectionsPerAddress: configuration.GetValue("MAX_CONNECTIONS_PER_ADDRESS", 200));
}
