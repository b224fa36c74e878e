namespace SocketStarter.Messages;

/// <summary>What the backend sends to a frontend node's fan-out actor, which serves the local connections.</summary>
public static class FrontendCommands
{
    /// <summary>The session has applied the envelope (after persisting what it changed).</summary>
    public sealed record Acknowledged(string SessionId, string ConnectionId, long SeqNo) : IWithSessionId, IWireMessage;

    /// <summary>The resume token was unknown or expired: the connection starts a fresh session instead.</summary>
    public sealed record ResumeRefused(string SessionId, string ConnectionId, long SeqNo) : IWithSessionId, IWireMessage;

    /// <summary>Another connection resumed the session with its token: this one closes (one live connection per session).</summary>
    public sealed record TakenOver(string SessionId, string ConnectionId) : IWithSessionId, IWireMessage;

    /// <summary>
    /// The session's entity started again (after a hand-off, a crash or a cut-off backend) and takes envelopes now:
    /// the connection sends its step in flight again at once instead of at its next resend, which backs off to seconds.
    /// </summary>
    public sealed record SessionReady(string SessionId, string ConnectionId) : IWithSessionId, IWireMessage;

    /// <summary>One client frame (JSON text) for one session.</summary>
    public sealed record ToSession(string SessionId, string Frame) : IWithSessionId, IWireMessage;

    /// <summary>
    /// One frame for every local subscriber of a topic: sent once per frontend node, not once per subscriber.
    /// <paramref name="Seq"/> is the message's sequence number in the topic, 0 for presence.
    /// </summary>
    public sealed record TopicFrame(string TopicId, long Seq, string Frame, string? ExceptSessionId) : IWithTopicId, IWireMessage;

    /// <summary>
    /// The messages of one write batch of a topic, in <c>seq</c> order: one message per frontend node per batch, not
    /// per topic message. The fan-out answers <see cref="TopicCommands.Delivered"/> once they are in its subscribers' queues.
    /// </summary>
    public sealed record TopicBatch(string TopicId, IReadOnlyList<TopicFrame> Frames) : IWithTopicId, IWireMessage;

    /// <summary>The session is a subscriber of the topic from now on; <paramref name="Frame"/> (the application's answer
    /// to the subscribe, with the catch-up) goes to it first. With <paramref name="ConfirmSeq"/>, the fan-out answers
    /// <see cref="TopicCommands.Delivered"/> with it once the frame is written, as for a batch: a catch-up counts in
    /// the topic's delivery window.</summary>
    public sealed record Subscribe(string TopicId, string SessionId, string? Frame, long? ConfirmSeq = null)
        : IWithTopicId, IWithSessionId, IWireMessage;

    /// <summary>The session left the topic; <paramref name="Frame"/> (the application's answer) goes to it last.</summary>
    public sealed record Unsubscribe(string TopicId, string SessionId, string? Frame) : IWithTopicId, IWithSessionId, IWireMessage;
}
