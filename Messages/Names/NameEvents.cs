namespace SocketStarter.Messages;

/// <summary>Every persisted event of a name entity: the entity recovers this type, not a list of types.</summary>
public interface INameEvent : IWireMessage;

/// <summary>Persisted events of a name entity.</summary>
public static class NameEvents
{
    public sealed record Claimed(string SessionId) : INameEvent;

    public sealed record Freed(string SessionId) : INameEvent;
}
