namespace SocketStarter.Messages;

/// <summary>Every gateway message that crosses nodes or is persisted; bound to <see cref="Serialization.WireSerializer"/>.</summary>
public interface IWireMessage;

public interface IWithSessionId
{
    string SessionId { get; }
}

public interface IWithTopicId
{
    string TopicId { get; }
}

/// <summary>
/// A step the session entity asks of another entity (a topic, or one of the application's own): it is sent again
/// until answered, so the entity must apply it once and answer every repeat with an <see cref="IEntityReply"/> of
/// the same <see cref="OpId"/>.
/// </summary>
public interface IEntityOperation
{
    long OpId { get; }
}

/// <summary>The answer to an <see cref="IEntityOperation"/>, carrying its <see cref="OpId"/>.</summary>
public interface IEntityReply
{
    long OpId { get; }
}

/// <summary>Sent by sharding to an entity that must stop for a hand-off, after the work it is doing.</summary>
public sealed record StopEntity : IWireMessage
{
    public static readonly StopEntity Instance = new();
}
