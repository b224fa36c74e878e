using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>Persisted events of a session entity.</summary>
public static class SessionEvents
{
    public sealed record Started(string TokenHash) : IWireMessage;

    /// <summary>A connection carries the session from now on.</summary>
    public sealed record Attached(string ConnectionId, IActorRef Frontend) : IWireMessage;

    public sealed record Detached(string ConnectionId, DateTime At) : IWireMessage;

    public sealed record NameSet(string Name) : IWireMessage;

    public sealed record RoomJoined(string RoomId) : IWireMessage;

    public sealed record RoomLeft(string RoomId) : IWireMessage;

    /// <summary>The resume window passed: name freed and rooms left; the session cannot come back.</summary>
    public sealed record Ended : IWireMessage
    {
        public static readonly Ended Instance = new();
    }
}
