using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>Steps a session entity asks of a room entity. Each is idempotent and answered by <see cref="RoomReplies.Done"/>.</summary>
public static class RoomCommands
{
    public interface IRoomCommand : IWithRoomId, IWithSessionId, IEntityOperation;

    /// <summary>Joins (or re-joins) the room; the member's frontend gets the <c>joined</c> frame with history.</summary>
    public sealed record Join(string RoomId, string SessionId, long OpId, string Name, IActorRef Frontend, long? Since) : IRoomCommand;

    /// <summary>Leaves the room. <paramref name="Expired"/>: the session ended, so there is no client to answer.</summary>
    public sealed record Leave(string RoomId, string SessionId, long OpId, bool Expired) : IRoomCommand;

    /// <summary>
    /// Posts a chat message. <paramref name="EnvelopeKey"/> identifies the client frame that caused it and
    /// <paramref name="ClientMessageId"/> is the client's own id: either seen before means the post is a repeat.
    /// </summary>
    public sealed record Post(
        string RoomId, string SessionId, long OpId, string Name, string Text, string? ClientMessageId, string EnvelopeKey) : IRoomCommand;

    /// <summary>The session now lives on another frontend (a resume): deliveries go there.</summary>
    public sealed record Rebind(string RoomId, string SessionId, long OpId, IActorRef Frontend) : IRoomCommand;

    /// <summary>The member registered a new name.</summary>
    public sealed record Rename(string RoomId, string SessionId, long OpId, string Name) : IRoomCommand;

    /// <summary>A frontend node's fan-out has handed the room's messages up to <paramref name="UpToSeq"/> to its members'
    /// sockets: the room may send that node more. Told straight to the room entity that sent them.</summary>
    public sealed record Delivered(string RoomId, long UpToSeq) : IWithRoomId, IWireMessage;
}

public static class RoomReplies
{
    public sealed record Done(string RoomId, long OpId) : IWithRoomId, IWireMessage;
}

/// <summary>Read-only questions to a room, for operators (<c>rooms list</c>).</summary>
public static class RoomQueries
{
    public sealed record GetMemberCount(string RoomId) : IWithRoomId, IWireMessage;

    public sealed record MemberCount(string RoomId, int Count) : IWithRoomId, IWireMessage;
}
