using Akka.Cluster.Hosting;
using Akka.Hosting;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend.Names;

public static class NameHostingExtensions
{
    public static AkkaConfigurationBuilder AddNameShards(this AkkaConfigurationBuilder builder) =>
        builder.WithShardRegion<ShardRegions.NameRegion>(
            ShardRegions.Name, NameActor.Props, ShardRegions.NameExtractor, BackendShardOptions.Create(rememberEntities: false));
}
