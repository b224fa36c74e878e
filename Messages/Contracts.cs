namespace SocketStarter.Messages;

/// <summary>Every message that crosses nodes or is persisted; bound to <see cref="Serialization.WireSerializer"/>.</summary>
public interface IWireMessage;

public interface IWithSessionId
{
    string SessionId { get; }
}

public interface IWithRoomId
{
    string RoomId { get; }
}

public interface IWithNameKey
{
    /// <summary>The user name folded to lower case: names are unique regardless of case.</summary>
    string NameKey { get; }
}

/// <summary>A step the session entity asks of another entity; the reply carries the same <see cref="OpId"/>.</summary>
public interface IEntityOperation : IWireMessage
{
    long OpId { get; }
}

/// <summary>Sent by sharding to an entity that must stop for a hand-off, after the work it is doing.</summary>
public sealed record StopEntity : IWireMessage
{
    public static readonly StopEntity Instance = new();
}
