namespace SocketStarter.Frontend;

/// <summary>How a frontend holds client traffic while no backend can take it.</summary>
public sealed record FrontendSettings(
    TimeSpan HoldLimit,
    int MaxHeldFrames,
    int MaxQueuedWhileBusy,
    int InboundBuffer,
    int OutboundLimit,
    TimeSpan FirstRetry,
    TimeSpan MaxRetry)
{
    public const int MaxFrameBytes = 64 * 1024;

    public static FrontendSettings FromConfiguration(IConfiguration configuration) => new(
        HoldLimit: TimeSpan.FromSeconds(configuration.GetValue("HOLD_LIMIT_SECONDS", 30.0)),
        MaxHeldFrames: configuration.GetValue("MAX_HELD_FRAMES", 256),
        MaxQueuedWhileBusy: configuration.GetValue("MAX_QUEUED_WHILE_BUSY", 64),
        InboundBuffer: 16,
        OutboundLimit: configuration.GetValue("OUTBOUND_QUEUE_FRAMES", 1024),
        FirstRetry: TimeSpan.FromMilliseconds(300),
        MaxRetry: TimeSpan.FromSeconds(2));
}
