using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using SocketStarter.Messages;

namespace SocketStarter.Shared.Hosting;

/// <summary>
/// The sharding wiring of both roles in one place: the entity types, how a message finds its entity, and where
/// they live. Backends host the shards (<see cref="AddBackendShards"/>), frontends a proxy per type
/// (<see cref="AddShardRegionProxies"/>).
/// </summary>
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

    /// <summary>
    /// A backend's shards. Sessions are remembered: a detached session must come back after a crash to expire on
    /// time; rooms and names start on their next message.
    /// </summary>
    public static AkkaConfigurationBuilder AddBackendShards(
        this AkkaConfigurationBuilder builder,
        Func<IActorRegistry, Func<string, Props>> session, Func<string, Props> room, Func<string, Props> name) => builder
        .WithShardRegion<NameRegion>(Name, name, NameExtractor, BackendShardOptions(rememberEntities: false))
        .WithShardRegion<RoomRegion>(Room, room, RoomExtractor, BackendShardOptions(rememberEntities: false))
        .WithShardRegion<SessionRegion>(Session, (_, registry) => session(registry), SessionExtractor,
            BackendShardOptions(rememberEntities: true));

    /// <summary>A frontend's way to every entity type: proxies to the backends' shards.</summary>
    public static AkkaConfigurationBuilder AddShardRegionProxies(this AkkaConfigurationBuilder builder) => builder
        .WithShardRegionProxy<SessionRegion>(Session, ClusterNodeSettings.BackendRole, SessionExtractor)
        .WithShardRegionProxy<RoomRegion>(Room, ClusterNodeSettings.BackendRole, RoomExtractor)
        .WithShardRegionProxy<NameRegion>(Name, ClusterNodeSettings.BackendRole, NameExtractor);

    /// <summary>
    /// Shards live on backends only. Hand-off sends <see cref="StopEntity"/>, which an entity handles after the
    /// event it is persisting, where the default PoisonPill would stop it between persisting and answering.
    /// </summary>
    private static ShardOptions BackendShardOptions(bool rememberEntities) => new()
    {
        Role = ClusterNodeSettings.BackendRole,
        HandOffStopMessage = StopEntity.Instance,
        StateStoreMode = StateStoreMode.DData,
        RememberEntities = rememberEntities,
        RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
    };

    private sealed class Extractor(Func<object, string?> entityId) : HashCodeMessageExtractor(ShardCount)
    {
        public override string? EntityId(object message) => entityId(message);
    }
}
