using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>Steps a session entity asks of a topic entity. Each is idempotent and answered by <see cref="TopicReplies.Done"/>.</summary>
public static class TopicCommands
{
    public interface ITopicCommand : IWithTopicId, IWithSessionId, IEntityOperation, IWireMessage;

    /// <summary>
    /// Subscribes (or subscribes again) the session, shown to the others as <paramref name="Presence"/>; its frontend gets
    /// the subscribed frame with what was published after <paramref name="Since"/> (or the latest messages).
    /// </summary>
    public sealed record Subscribe(string TopicId, string SessionId, long OpId, string Presence, IActorRef Frontend, long? Since) : ITopicCommand;

    /// <summary>Unsubscribes the session. <paramref name="Expired"/>: the session ended, so there is no client to answer.</summary>
    public sealed record Unsubscribe(string TopicId, string SessionId, long OpId, bool Expired) : ITopicCommand;

    /// <summary>
    /// Publishes <paramref name="Payload"/> (the application's JSON object). <paramref name="EnvelopeKey"/> identifies the
    /// client frame that caused it and <paramref name="DedupeId"/> is an id the client chose: either seen before from
    /// the same session means the publish is a repeat.
    /// </summary>
    public sealed record Publish(
        string TopicId, string SessionId, long OpId, string Payload, string? DedupeId, string EnvelopeKey) : ITopicCommand;

    /// <summary>The session now lives on another frontend (a resume): deliveries go there.</summary>
    public sealed record Rebind(string TopicId, string SessionId, long OpId, IActorRef Frontend) : ITopicCommand;

    /// <summary>The session is shown to the other subscribers as <paramref name="Presence"/> from now on.</summary>
    public sealed record SetPresence(string TopicId, string SessionId, long OpId, string Presence) : ITopicCommand;

    /// <summary>A frontend node's fan-out has handed the topic's messages up to <paramref name="UpToSeq"/> to its
    /// subscribers' sockets: the topic may send that node more. Told straight to the topic entity that sent them.</summary>
    public sealed record Delivered(string TopicId, long UpToSeq) : IWithTopicId, IWireMessage;
}

public static class TopicReplies
{
    public sealed record Done(string TopicId, long OpId) : IWithTopicId, IEntityReply, IWireMessage;
}

/// <summary>Read-only questions to a topic, for operators (<c>topics list</c>).</summary>
public static class TopicQueries
{
    public sealed record GetMemberCount(string TopicId) : IWithTopicId, IWireMessage;

    public sealed record MemberCount(string TopicId, int Count) : IWithTopicId, IWireMessage;
}
