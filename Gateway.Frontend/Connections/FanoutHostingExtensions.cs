using Akka;
using Akka.Actor;
using Akka.Hosting;

namespace SocketStarter.Gateway.Frontend.Connections;

public static class FanoutHostingExtensions
{
    public sealed class Fanout;

    public static AkkaConfigurationBuilder AddFanout(this AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry) => registry.Register<Fanout>(system.ActorOf(FanoutActor.Props(), "fanout")));

    /// <summary>
    /// Whatever stops the actor system (the host, or the cluster downing this node), the clients are first asked to
    /// resume elsewhere (1012), before the actors that serve them stop and their sockets would be cut (1006).
    /// </summary>
    public static AkkaConfigurationBuilder AddClientsResumeElsewhere(this AkkaConfigurationBuilder builder) =>
        builder.AddStartup((system, registry) =>
        {
            var fanout = registry.Get<Fanout>();
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "clients-resume-elsewhere", async () =>
            {
                try
                {
                    await fanout.Ask<FanoutActor.Drained>(FanoutActor.Drain.Instance, TimeSpan.FromSeconds(4));
                }
                catch (AskTimeoutException)
                {
                    // The clients not yet closed are cut when the node stops; they resume all the same.
                }
                return Done.Instance;
            });
        });
}
