using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using SocketStarter.Messages;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend;

public static class BackendShardOptions
{
    /// <summary>
    /// Shards live on backends only. Hand-off sends <see cref="StopEntity"/>, which an entity handles after the
    /// event it is persisting, where the default PoisonPill would stop it between persisting and answering.
    /// </summary>
    public static ShardOptions Create(bool rememberEntities) => new()
    {
        Role = ClusterNodeSettings.BackendRole,
        HandOffStopMessage = StopEntity.Instance,
        StateStoreMode = StateStoreMode.DData,
        RememberEntities = rememberEntities,
        RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
    };
}
