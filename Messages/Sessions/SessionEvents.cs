using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>Every persisted event of a session entity: the entity recovers this type, not a list of types.</summary>
public interface ISessionEvent : IWireMessage;

/// <summary>Persisted events of a session entity.</summary>
public static class SessionEvents
{
    /// <summary>A session of <paramref name="Application"/> began; only its owner (the token) may attach.</summary>
    public sealed record Started(string TokenHash, string Application) : ISessionEvent;

    /// <summary>A connection carries the session from now on.</summary>
    public sealed record Attached(string ConnectionId, IActorRef Frontend) : ISessionEvent;

    public sealed record Detached(string ConnectionId, DateTime At) : ISessionEvent;

    /// <summary>How the session is shown to the other subscribers of its topics.</summary>
    public sealed record PresenceSet(string Presence) : ISessionEvent;

    public sealed record Subscribed(string TopicId) : ISessionEvent;

    public sealed record Unsubscribed(string TopicId) : ISessionEvent;

    /// <summary>The resume window passed: topics left and the application's end steps run; the session cannot come back.</summary>
    public sealed record Ended : ISessionEvent
    {
        public static readonly Ended Instance = new();
    }
}
