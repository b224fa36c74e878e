using Akka.Cluster.Sharding;
using SocketStarter.Messages;

namespace SocketStarter.Shared.Hosting;

/// <summary>Registry keys and names of the sharded entity types. Frontends host proxies, backends the shards.</summary>
public static class ShardRegions
{
    public const string Session = "session";
    public const string Room = "room";
    public const string Name = "name";
    public static readonly IReadOnlyList<string> TypeNames = [Session, Room, Name];

    /// <summary>Few shards: each one moves on a backend restart, and a handful of backends is the scale here.</summary>
    public const int ShardCount = 40;

    public sealed class SessionRegion;
    public sealed class RoomRegion;
    public sealed class NameRegion;

    public static readonly IMessageExtractor SessionExtractor = new Extractor(message => (message as IWithSessionId)?.SessionId);
    public static readonly IMessageExtractor RoomExtractor = new Extractor(message => (message as IWithRoomId)?.RoomId);
    public static readonly IMessageExtractor NameExtractor = new Extractor(message => (message as IWithNameKey)?.NameKey);

    private sealed class Extractor(Func<object, string?> entityId) : HashCodeMessageExtractor(ShardCount)
    {
        public override string? EntityId(object message) => entityId(message);
    }
}
