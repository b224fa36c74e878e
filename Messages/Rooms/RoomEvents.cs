using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>A chat message as the room keeps it.</summary>
public sealed record ChatMessage(long Seq, string From, string Text, string? ClientMessageId, DateTime Timestamp) : IWireMessage;

/// <summary>Every persisted event of a room entity: the entity recovers this type, not a list of types.</summary>
public interface IRoomEvent : IWireMessage;

/// <summary>Persisted events of a room entity.</summary>
public static class RoomEvents
{
    public sealed record MemberJoined(string SessionId, string Name, IActorRef Frontend) : IRoomEvent;
    public sealed record MemberLeft(string SessionId) : IRoomEvent;
    public sealed record MemberRebound(string SessionId, IActorRef Frontend) : IRoomEvent;
    public sealed record MemberRenamed(string SessionId, string Name) : IRoomEvent;
    public sealed record MessagePosted(ChatMessage Message, string SessionId, string EnvelopeKey) : IRoomEvent;

    public sealed record Member(string SessionId, string Name, IActorRef Frontend);

    /// <summary>A snapshot: the kept history, the members, and the recent post keys that make posts idempotent.</summary>
    public sealed record RoomSnapshot(
        long LastSeq, IReadOnlyList<ChatMessage> History, IReadOnlyList<Member> Members,
        IReadOnlyList<RecentPostKeys> RecentKeys) : IWireMessage;

    public sealed record RecentPostKeys(string SessionId, IReadOnlyList<string> Keys);
}
