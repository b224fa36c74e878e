using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Hosting;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend.Membership;

/// <summary>
/// A backend in a cluster without any frontend serves nobody, and stays so: when the only seed (a frontend)
/// restarts, it forms a new cluster of its own and never looks for the old one. So a backend left without a
/// frontend for <see cref="Grace"/> leaves (its shards handed off) and its host starts over, joining the seeds anew.
/// </summary>
public sealed class FrontendWatchdogActor : ReceiveActor, IWithTimers
{
    /// <summary>Why the actor system stopped: the host starts a fresh one instead of exiting.</summary>
    public sealed class NoFrontendReason : CoordinatedShutdown.Reason
    {
        public static readonly NoFrontendReason Instance = new();
        private NoFrontendReason() { }
        public override int ExitCode => 0;
    }

    private sealed record CheckAlone;
    private const string AloneTimer = "alone";

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan grace) => Akka.Actor.Props.Create(() => new FrontendWatchdogActor(grace));

    public FrontendWatchdogActor(TimeSpan grace)
    {
        var cluster = Cluster.Get(Context.System);
        var log = Context.GetLogger();
        Receive<ClusterEvent.IMemberEvent>(_ => Evaluate());
        Receive<ClusterEvent.CurrentClusterState>(_ => Evaluate());
        Receive<CheckAlone>(_ =>
        {
            if (HasFrontend()) return;
            log.Warning("No frontend in this cluster for {0}: leaving to join the seeds again", grace);
            CoordinatedShutdown.Get(Context.System).Run(NoFrontendReason.Instance);
        });

        void Evaluate()
        {
            if (HasFrontend())
                Timers.Cancel(AloneTimer);
            else if (!Timers.IsTimerActive(AloneTimer))
                Timers.StartSingleTimer(AloneTimer, new CheckAlone(), grace);
        }

        bool HasFrontend() => cluster.State.Members.Any(member =>
            member.HasRole(ClusterNodeSettings.FrontendRole) && member.Status is MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp);

        // Only once this node is a member: before that, the join watchdog is in charge.
        var self = Self;
        cluster.RegisterOnMemberUp(() =>
            cluster.Subscribe(self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent)));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}

public static class FrontendWatchdogHostingExtensions
{
    public static AkkaConfigurationBuilder AddFrontendWatchdog(this AkkaConfigurationBuilder builder, TimeSpan grace) =>
        builder.WithActors((system, _) => system.ActorOf(FrontendWatchdogActor.Props(grace), "frontend-watchdog"));
}
