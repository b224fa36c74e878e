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

    /// <summary>One client frame (JSON text) for one session.</summary>
    public sealed record ToSession(string SessionId, string Frame) : IWithSessionId, IWireMessage;

    /// <summary>
    /// One frame for every local member of a room: sent once per frontend node, not once per member.
    /// <paramref name="Seq"/> is the chat message's room sequence number, 0 for presence.
    /// </summary>
    public sealed record RoomFrame(string RoomId, long Seq, string Frame, string? ExceptSessionId) : IWithRoomId, IWireMessage;

    /// <summary>
    /// The chat messages of one write batch of a room, in <c>seq</c> order: one message per frontend node per batch,
    /// not per chat message. The fan-out answers <see cref="RoomCommands.Delivered"/> once they are in its members' queues.
    /// </summary>
    public sealed record RoomMessages(string RoomId, IReadOnlyList<RoomFrame> Frames) : IWithRoomId, IWireMessage;

    /// <summary>The session is a member of the room from now on; <paramref name="Frame"/> (the <c>joined</c> answer) goes to it first.</summary>
    public sealed record Subscribe(string RoomId, string SessionId, string? Frame) : IWithRoomId, IWithSessionId, IWireMessage;

    /// <summary>The session left the room; <paramref name="Frame"/> (the <c>left</c> answer) goes to it last.</summary>
    public sealed record Unsubscribe(string RoomId, string SessionId, string? Frame) : IWithRoomId, IWithSessionId, IWireMessage;
}
