using Akka.Cluster.Hosting;
using Akka.Hosting;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend.Rooms;

public static class RoomHostingExtensions
{
    public static AkkaConfigurationBuilder AddRoomShards(this AkkaConfigurationBuilder builder) =>
        builder.WithShardRegion<ShardRegions.RoomRegion>(
            ShardRegions.Room, RoomActor.Props, ShardRegions.RoomExtractor, BackendShardOptions.Create(rememberEntities: false));
}
