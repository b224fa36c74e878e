using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;
using SocketStarter.Shared.Hosting.Management;
using SocketStarter.Shared.Hosting.Membership;

namespace SocketStarter.Shared.Hosting;

public static class ClusterHostingExtensions
{
    /// <summary>
    /// Remoting, cluster membership, split-brain resolver and wire serialization, shared by both roles. With
    /// <paramref name="beforeJoining"/>, the node joins the seeds only once that has completed (its actor system
    /// runs meanwhile); without, it joins at start. With contact points instead of seeds, it joins through Cluster
    /// Bootstrap, <paramref name="managementUrl"/> being its own contact point.
    /// </summary>
    public static AkkaConfigurationBuilder AddSocketStarterCluster(this AkkaConfigurationBuilder builder, ClusterNodeSettings settings,
        Uri managementUrl, Func<ActorSystem, Task>? beforeJoining = null)
    {
        var bootstrap = settings.ContactPoints.Count > 0;
        if (bootstrap) builder.AddHocon(ClusterBootstrapping.Hocon(settings.ContactPoints), HoconAddMode.Prepend);
        if (beforeJoining is not null || bootstrap)
            builder.AddStartup((system, registry) =>
            {
                // Not awaited: the host (and its health endpoints, the bootstrap's contact point) starts meanwhile.
                _ = Task.Run(async () =>
                {
                    if (beforeJoining is not null) await beforeJoining(system);
                    // Stopped meanwhile (SIGTERM while warming up): nothing to join.
                    if (system.WhenTerminated.IsCompleted) return;
                    if (bootstrap) await ClusterBootstrapping.StartAsync(system, managementUrl);
                    else Cluster.Get(system).JoinSeedNodes(settings.Seeds.Select(Address.Parse));
                });
            });
        return builder
            .WithHostLogging()
            .AddTunables("cluster.conf")
            .WithRemoting(new RemoteOptions
            {
                HostName = settings.Host,
                PublicHostName = settings.PublicHost ?? settings.Host,
                Port = settings.Port,
            })
            .WithClustering(new ClusterOptions
            {
                Roles = [settings.Role],
                SeedNodes = beforeJoining is null ? settings.Seeds.ToArray() : [],
            })
            // The frontends hold every client socket: whatever the failure, a frontend survives, so a crashed or
            // cut-off backend never downs a frontend, and frontends cut from each other do not down each other.
            .AddHocon($"akka.cluster.downing-provider-class = {ServingFrontendDowning.ConfigValue}", HoconAddMode.Prepend)
            .WithCustomSerializer("socketstarter-wire", [typeof(IWireMessage)], system => new WireSerializer(system));
    }

    /// <summary>Live: the actor system runs. Ready: this node is an Up member of the cluster.</summary>
    public static AkkaConfigurationBuilder AddHealthChecks(this AkkaConfigurationBuilder builder) => builder
        .WithActorSystemLivenessCheck(tags: [ManagementEndpoints.LiveTag])
        .WithAkkaClusterReadinessCheck(tags: [ManagementEndpoints.ReadyTag]);

    /// <summary>Akka tunables from a file of <c>hocon/</c> (copied beside the node), each with the reason for its value;
    /// put first, so they take precedence over Akka's defaults.</summary>
    public static AkkaConfigurationBuilder AddTunables(this AkkaConfigurationBuilder builder, string fileName) =>
        builder.AddHoconFile(Path.Combine(AppContext.BaseDirectory, "hocon", fileName), HoconAddMode.Prepend);
}
