using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>Every persisted event of a session entity: the entity recovers this type, not a list of types.</summary>
public interface ISessionEvent : IWireMessage;

/// <summary>Persisted events of a session entity.</summary>
public static class SessionEvents
{
    public sealed record Started(string TokenHash) : ISessionEvent;

    /// <summary>A connection carries the session from now on.</summary>
    public sealed record Attached(string ConnectionId, IActorRef Frontend) : ISessionEvent;

    public sealed record Detached(string ConnectionId, DateTime At) : ISessionEvent;

    public sealed record NameSet(string Name) : ISessionEvent;

    public sealed record RoomJoined(string RoomId) : ISessionEvent;

    public sealed record RoomLeft(string RoomId) : ISessionEvent;

    /// <summary>The resume window passed: name freed and rooms left; the session cannot come back.</summary>
    public sealed record Ended : ISessionEvent
    {
        public static readonly Ended Instance = new();
    }
}
