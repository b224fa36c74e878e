using System.Collections.Frozen;
using Akka.Actor;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;

namespace SocketStarter.Samples.Chat;

/// <summary>Every chat message that crosses nodes or is persisted; bound to <see cref="ChatSerializer"/>.</summary>
public interface IChatContract;

public interface IWithNameKey
{
    /// <summary>The user name folded to lower case: names are unique regardless of case.</summary>
    string NameKey { get; }
}

/// <summary>The cluster-wide registry of user names: one sharded entity per name.</summary>
public static class NameCommands
{
    public interface INameCommand : IWithNameKey, IWithSessionId, IEntityOperation, IChatContract;

    public sealed record Claim(string NameKey, string SessionId, long OpId) : INameCommand;

    public sealed record Release(string NameKey, string SessionId, long OpId) : INameCommand;
}

public static class NameReplies
{
    public sealed record ClaimResult(string NameKey, long OpId, bool Granted) : IWithNameKey, IEntityReply, IChatContract;

    public sealed record Released(string NameKey, long OpId) : IWithNameKey, IEntityReply, IChatContract;
}

/// <summary>Every persisted event of a name entity: the entity recovers this type, not a list of types.</summary>
public interface INameEvent : IChatContract;

/// <summary>Persisted events of a name entity.</summary>
public static class NameEvents
{
    public sealed record Claimed(string SessionId) : INameEvent;

    public sealed record Freed(string SessionId) : INameEvent;
}

/// <summary>The chat's own contracts, under manifests of their own.</summary>
public sealed class ChatSerializer(ExtendedActorSystem system) : JsonContractSerializer(system, Contracts)
{
    public const int SerializerId = 4712;

    /// <summary>Manifest of every chat contract. Never reuse or change a manifest once it has been released.</summary>
    public static readonly FrozenDictionary<string, Type> Contracts = new Dictionary<string, Type>
    {
        ["name.claim.v1"] = typeof(NameCommands.Claim),
        ["name.release.v1"] = typeof(NameCommands.Release),
        ["name.claim-result.v1"] = typeof(NameReplies.ClaimResult),
        ["name.released.v1"] = typeof(NameReplies.Released),
        ["name.claimed.v1"] = typeof(NameEvents.Claimed),
        ["name.freed.v1"] = typeof(NameEvents.Freed),
    }.ToFrozenDictionary();

    public override int Identifier => SerializerId;
}
