namespace SocketStarter.Messages;

/// <summary>The cluster-wide registry of user names: one sharded entity per name.</summary>
public static class NameCommands
{
    public interface INameCommand : IWithNameKey, IWithSessionId, IEntityOperation;

    public sealed record Claim(string NameKey, string SessionId, long OpId) : INameCommand;

    public sealed record Release(string NameKey, string SessionId, long OpId) : INameCommand;
}

public static class NameReplies
{
    public sealed record ClaimResult(string NameKey, long OpId, bool Granted) : IWithNameKey, IWireMessage;

    public sealed record Released(string NameKey, long OpId) : IWithNameKey, IWireMessage;
}
