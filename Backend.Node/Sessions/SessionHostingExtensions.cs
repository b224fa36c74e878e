using Akka.Cluster.Hosting;
using Akka.Hosting;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend.Sessions;

public static class SessionHostingExtensions
{
    /// <summary>Sessions are remembered: a detached session must come back after a crash to expire on time.</summary>
    public static AkkaConfigurationBuilder AddSessionShards(this AkkaConfigurationBuilder builder, SessionSettings settings) =>
        builder.WithShardRegion<ShardRegions.SessionRegion>(
            ShardRegions.Session,
            (_, registry) => sessionId => SessionActor.Props(
                sessionId, registry.Get<ShardRegions.RoomRegion>(), registry.Get<ShardRegions.NameRegion>(), settings),
            ShardRegions.SessionExtractor,
            BackendShardOptions.Create(rememberEntities: true));
}
