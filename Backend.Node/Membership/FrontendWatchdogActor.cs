using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Hosting;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend.Membership;

/// <summary>
/// A backend that no frontend can reach serves nobody, and may stay so: when the only seed (a frontend) restarts, it
/// forms a new cluster of its own and never looks for the old one; when it crashed, the only backend is not downed
/// for it (DowningRules). So a backend without a reachable frontend for <see cref="Grace"/> leaves (its shards handed
/// off) and its host starts over, joining the seeds anew. Shorter silences (heartbeats late on a saturated machine,
/// 2-4 s) are waited out.
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

    private sealed record Start { public static readonly Start Instance = new(); }
    private sealed record Check { public static readonly Check Instance = new(); }
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan grace) => Akka.Actor.Props.Create(() => new FrontendWatchdogActor(grace));

    public FrontendWatchdogActor(TimeSpan grace)
    {
        var cluster = Cluster.Get(Context.System);
        var log = Context.GetLogger();
        DateTime? aloneSince = null;
        Receive<Check>(_ =>
        {
            var state = cluster.State;
            var reachableFrontend = state.Members.Any(member => member.HasRole(ClusterNodeSettings.FrontendRole)
                && member.Status is MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp
                && !state.Unreachable.Contains(member));
            if (reachableFrontend)
            {
                aloneSince = null;
                return;
            }
            aloneSince ??= DateTime.UtcNow;
            if (DateTime.UtcNow - aloneSince < grace) return;
            log.Warning("No frontend reachable in this cluster for {0}: leaving to join the seeds again", grace);
            Timers.CancelAll();
            CoordinatedShutdown.Get(Context.System).Run(NoFrontendReason.Instance);
        });

        // Only once this node is a member: before that, the join watchdog is in charge.
        Receive<Start>(_ => Timers.StartPeriodicTimer(nameof(Check), Check.Instance, CheckEvery));
        var self = Self;
        cluster.RegisterOnMemberUp(() => self.Tell(Start.Instance));
    }
}

public static class FrontendWatchdogHostingExtensions
{
    public static AkkaConfigurationBuilder AddFrontendWatchdog(this AkkaConfigurationBuilder builder, TimeSpan grace) =>
        builder.WithActors((system, _) => system.ActorOf(FrontendWatchdogActor.Props(grace), "frontend-watchdog"));
}
