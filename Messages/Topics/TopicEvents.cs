using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>
/// One message of a topic as the topic keeps it: its <paramref name="Seq"/> in the topic, the application's JSON
/// object, the id the client chose for it (if any), and when it was published.
/// </summary>
public sealed record TopicMessage(long Seq, string Payload, string? DedupeId, DateTime Timestamp) : IWireMessage;

/// <summary>Every persisted event of a topic entity: the entity recovers this type, not a list of types.</summary>
public interface ITopicEvent : IWireMessage;

/// <summary>A topic event that changes one member's membership.</summary>
public interface IMemberEvent : ITopicEvent
{
    string SessionId { get; }
}

/// <summary>Persisted events of a topic entity.</summary>
public static class TopicEvents
{
    public sealed record MemberJoined(string SessionId, string Presence, IActorRef Frontend) : IMemberEvent;
    public sealed record MemberLeft(string SessionId) : IMemberEvent;
    public sealed record MemberRebound(string SessionId, IActorRef Frontend) : IMemberEvent;
    public sealed record PresenceChanged(string SessionId, string Presence) : IMemberEvent;
    public sealed record Published(TopicMessage Message, string SessionId, string EnvelopeKey) : ITopicEvent;

    public sealed record Member(string SessionId, string Presence, IActorRef Frontend);

    /// <summary>A snapshot: the kept history, the members, and the recent publish keys that make publishing idempotent.</summary>
    public sealed record TopicSnapshot(
        long LastSeq, IReadOnlyList<TopicMessage> History, IReadOnlyList<Member> Members,
        IReadOnlyList<RecentPublishKeys> RecentKeys) : IWireMessage;

    public sealed record RecentPublishKeys(string SessionId, IReadOnlyList<string> Keys);
}
