using Akka.Actor;
using Akka.Hosting;

namespace SocketStarter.Frontend.Connections;

public static class FanoutHostingExtensions
{
    public sealed class Fanout;

    public static AkkaConfigurationBuilder AddFanout(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry) => registry.Register<Fanout>(system.ActorOf(FanoutActor.Props(), "fanout")));
}
