using Akka.Actor;
using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Gateway.Backend;

public static class HandOff
{
    /// <summary>An entity's answer to <see cref="Messages.StopEntity"/>: counted, then stopped.</summary>
    public static void Stop(IActorContext context)
    {
        SocketStarterMetrics.HandOffs.Add(1);
        context.Stop(context.Self);
    }
}
