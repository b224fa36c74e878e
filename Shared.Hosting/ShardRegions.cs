using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using SocketStarter.Messages;

namespace SocketStarter.Shared.Hosting;

/// <summary>
/// The sharding wiring of both roles in one place: the gateway's entity types, how a message finds its entity, and
/// where they live. Backends host the shards (<see cref="AddGatewayShards"/>, and an application's own with
/// <see cref="AddBackendShard{TKey}"/>), frontends a proxy per gateway type (<see cref="AddShardRegionProxies"/>).
/// </summary>
public static class ShardRegions
{
    public const string Session = "session";
    public const string Topic = "topic";
    public static readonly IReadOnlyList<string> TypeNames = [Session, Topic];

    /// <summary>
    /// Shards per entity type, ten times the handful of backends this is built for. Every shard that moves on a backend
    /// restart costs the coordinator one allocation state write at a time (20-30 ms each here): a graceful restart of
    /// one of two backends held clients 0.92-1.19 s with 10 against 1.44-1.91 s with 40 (bench/run.sh --restart 2,
    /// interleaved). Part of the contract between the nodes: changing it needs every node stopped (docs/deploy.md).
    /// </summary>
    public const int ShardCount = 10;

    public sealed class SessionRegion;
    public sealed class TopicRegion;

    public static readonly IMessageExtractor SessionExtractor = new Extractor(message => (message as IWithSessionId)?.SessionId);
    public static readonly IMessageExtractor TopicExtractor = new Extractor(message => (message as IWithTopicId)?.TopicId);

    /// <summary>
    /// The gateway's shards on a backend. Sessions are remembered: a detached session must come back after a crash
    /// to expire on time; topics start on their next message.
    /// </summary>
    public static AkkaConfigurationBuilder AddGatewayShards(
        this AkkaConfigurationBuilder builder, Func<IActorRegistry, Func<string, Props>> session, Func<IActorRegistry, Func<string, Props>> topic) => builder
        .WithShardRegion<TopicRegion>(Topic, (_, registry) => topic(registry), TopicExtractor, BackendShardOptions(rememberEntities: false))
        .WithShardRegion<SessionRegion>(Session, (_, registry) => session(registry), SessionExtractor,
            BackendShardOptions(rememberEntities: true))
        .AddStartup((system, _) =>
        {
            var shutdown = CoordinatedShutdown.Get(system);
            // Whether another backend's coordinator can be writing to this one, taken while membership is still known.
            var otherBackends = true;
            shutdown.AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "note-other-backends", () =>
            {
                var cluster = Cluster.Get(system);
                otherBackends = cluster.State.Members.Any(m => m.HasRole(ClusterNodeSettings.BackendRole)
                    && !m.Address.Equals(cluster.SelfAddress) && m.Status is not (MemberStatus.Down or MemberStatus.Removed));
                return Task.FromResult(Done.Instance);
            });
            shutdown.AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "acknowledge-late-allocation-writes",
                async () =>
                {
                    if (otherBackends) await Task.Delay(LingerAfterLeaving);
                    return Done.Instance;
                });
            return Task.CompletedTask;
        });

    /// <summary>
    /// How long a backend that left still answers: the coordinator writes each shard allocation to a majority of the
    /// backends, and a write it began in the moment this backend turned Exiting still counts it. Unanswered, that
    /// write waited out updating-state-timeout (2 s) while the coordinator answered no shard's home: a graceful
    /// restart with two backends stalled the shards allocated after it 2 s longer (debug log of bench/run.sh --restart).
    /// The only backend does not wait: no other coordinator writes to it, and its clients wait for its successor.
    /// </summary>
    private static readonly TimeSpan LingerAfterLeaving = TimeSpan.FromMilliseconds(500);

    /// <summary>One of an application's own entity types, on the backends, with the gateway's hand-off; found in the
    /// registry as <typeparamref name="TKey"/>. <paramref name="entityId"/> reads the entity id from a message.</summary>
    public static AkkaConfigurationBuilder AddBackendShard<TKey>(
        this AkkaConfigurationBuilder builder, string typeName, Func<string, Props> entity, Func<object, string?> entityId) => builder
        .WithShardRegion<TKey>(typeName, entity, new Extractor(entityId), BackendShardOptions(rememberEntities: false));

    /// <summary>A frontend's way to the gateway's entity types: proxies to the backends' shards.</summary>
    public static AkkaConfigurationBuilder AddShardRegionProxies(this AkkaConfigurationBuilder builder) => builder
        .WithShardRegionProxy<SessionRegion>(Session, ClusterNodeSettings.BackendRole, SessionExtractor)
        .WithShardRegionProxy<TopicRegion>(Topic, ClusterNodeSettings.BackendRole, TopicExtractor);

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
