using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using SocketStarter.Messages;

namespace SocketStarter.Shared.Hosting.Management;

/// <summary>A command of this application's own palette, run by the role that can (<c>frontend drain</c> on a frontend).</summary>
public interface IApplicationCommand
{
    bool CanRun(ManagementCommand command);
    Task<string> RunAsync(ManagementCommand command, CancellationToken cancellation);
}

/// <summary>Runs management commands against this node's actor system.</summary>
public sealed class ManagementExecutor(ActorSystem system, IEnumerable<IApplicationCommand> applicationCommands)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CoordinatorBusy = TimeSpan.FromSeconds(20);
    private readonly Cluster _cluster = Cluster.Get(system);

    public async Task<string> RunAsync(ManagementCommand command, CancellationToken cancellation)
    {
        var state = _cluster.State;
        switch (command)
        {
            case ManagementCommand.ClusterShow:
                return ManagementOutput.Members(state.Members.Select(m => ManagementOutput.MemberRow.Of(m, state.Unreachable.Contains(m))));
            case ManagementCommand.ClusterStatus:
                return ManagementOutput.MemberLine(ManagementOutput.MemberRow.Of(_cluster.SelfMember, state.Unreachable.Contains(_cluster.SelfMember)));
            case ManagementCommand.ClusterLeader:
                return state.Leader?.ToString() ?? "No leader: this node is not a member of a cluster yet.";
            case ManagementCommand.ClusterLeave leave:
                var leaving = leave.Address ?? _cluster.SelfAddress;
                EnsureMember(leaving);
                _cluster.Leave(leaving);
                return $"Leaving: {leaving}";
            case ManagementCommand.ClusterJoin join:
                _cluster.Join(join.Address);
                return $"Joining: {join.Address}";
            case ManagementCommand.ClusterDown down:
                EnsureMember(down.Address);
                _cluster.Down(down.Address);
                return $"Downing: {down.Address}";
            case ManagementCommand.ClusterDownUnreachable:
                if (state.Unreachable.Count == 0) return "No unreachable nodes.";
                foreach (var member in state.Unreachable) _cluster.Down(member.Address);
                return string.Join('\n', state.Unreachable.Select(m => $"Downing: {m.Address}"));
            case ManagementCommand.ShardingRegions:
                return string.Join('\n', ShardRegions.TypeNames.Union(ClusterSharding.Get(system).ShardTypeNames).Select(type => $"{type} | {(IsHostedHere(type) ? "region" : "proxy")}"));
            case ManagementCommand.RegionStats stats:
                return ManagementOutput.RegionStats(stats.TypeName, await ShardingStatsAsync(stats.TypeName));
            case ManagementCommand.ShardStats stats:
                return ManagementOutput.ShardStats(stats.TypeName, await ShardingStatsAsync(stats.TypeName));
            case ManagementCommand.ActorSystemInfo:
                return string.Join('\n',
                    $"Name: {system.Name}",
                    $"Address: {_cluster.SelfAddress}",
                    $"Roles: {string.Join(", ", _cluster.SelfRoles)}",
                    $"Akka.NET: {typeof(ActorSystem).Assembly.GetName().Version}",
                    $"Uptime: {system.Uptime:d\\.hh\\:mm\\:ss}");
            case ManagementCommand.ActorHierarchy hierarchy:
                return Hierarchy(hierarchy.Depth);
            case ManagementCommand.Help:
                return ManagementOutput.Help();
            case ManagementCommand.SessionsCount:
                var sessions = await ShardingStatsAsync(ShardRegions.Session);
                return $"Sessions: {sessions.Values.Sum(shards => shards.Values.Sum())}";
            case ManagementCommand.TopicsList:
                return ManagementOutput.Topics(await TopicsAsync(cancellation));
        }
        return applicationCommands.FirstOrDefault(c => c.CanRun(command)) is { } application
            ? await application.RunAsync(command, cancellation)
            : throw new CommandException($"That command does not run on a {string.Join('/', _cluster.SelfRoles)} node.");
    }

    /// <summary>Membership events as they happen, one line each, until <paramref name="cancellation"/>.</summary>
    public async Task TailAsync(Func<string, Task> write, CancellationToken cancellation)
    {
        var lines = Channel.CreateUnbounded<string>();
        var listener = system.ActorOf(Props.Create(() => new MembershipListener(lines.Writer)));
        try
        {
            await foreach (var line in lines.Reader.ReadAllAsync(cancellation)) await write(line);
        }
        catch (OperationCanceledException)
        {
            // The client went away: that is how a tail ends.
        }
        finally
        {
            system.Stop(listener);
        }
    }

    private bool IsHostedHere(string typeName) => ClusterSharding.Get(system).ShardTypeNames.Contains(typeName);

    private void EnsureMember(Address address)
    {
        if (_cluster.State.Members.All(m => m.Address != address))
            throw new CommandException($"{address} is not a member of this cluster; see 'cluster show'.");
    }

    private async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>>> ShardingStatsAsync(string typeName)
    {
        var typeNames = ShardRegions.TypeNames.Union(ClusterSharding.Get(system).ShardTypeNames).ToList();
        if (!typeNames.Contains(typeName))
            throw new CommandException($"No sharded type '{typeName}'; types: {string.Join(", ", typeNames)}.");
        // The coordinator answers; right after a member is downed it is busy writing the new allocation state: a CI
        // run's `sessions count` just after a down got no answer within 6 s. An operator would rather wait.
        var stats = await ClusterSharding.Get(system).ShardRegionProxyOrRegion(typeName).Ask<ClusterShardingStats>(new GetClusterShardingStats(Timeout), CoordinatorBusy);
        return stats.Regions.ToDictionary(
            r => r.Key.ToString(),
            r => (IReadOnlyDictionary<string, int>)r.Value.Stats.ToDictionary(s => s.Key, s => s.Value));
    }

    /// <summary>The topics active on every backend, each asked for its member count.</summary>
    private async Task<IEnumerable<(string Topic, int Members)>> TopicsAsync(CancellationToken cancellation)
    {
        var backends = _cluster.State.Members.Where(m => m.HasRole(ClusterNodeSettings.BackendRole) && m.Status == MemberStatus.Up);
        var states = await Task.WhenAll(backends.Select(member =>
            system.ActorSelection(new RootActorPath(member.Address) / "system" / "sharding" / ShardRegions.Topic)
                .Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Timeout, cancellation)));
        var topics = states.SelectMany(s => s.Shards).SelectMany(s => s.EntityIds).Distinct().ToList();
        var region = ClusterSharding.Get(system).ShardRegionProxyOrRegion(ShardRegions.Topic);
        var counts = await Task.WhenAll(topics.Select(topic =>
            region.Ask<TopicQueries.MemberCount>(new TopicQueries.GetMemberCount(topic), Timeout, cancellation)));
        return counts.Select(c => (c.TopicId, c.Count));
    }

    private string Hierarchy(int depth)
    {
        var output = new StringBuilder();
        var extended = (ExtendedActorSystem)system;
        Walk(extended.Guardian, 0);
        Walk(extended.SystemGuardian, 0);
        return output.ToString().TrimEnd();

        void Walk(IActorRef actor, int level)
        {
            output.Append(' ', level * 2).AppendLine(actor.Path.ToStringWithoutAddress());
            if (level + 1 >= depth || actor is not ActorRefWithCell withCell) return;
            foreach (var child in withCell.Children.OrderBy(c => c.Path.Name, StringComparer.Ordinal)) Walk(child, level + 1);
        }
    }

    /// <summary>Writes every membership and reachability change as a line.</summary>
    private sealed class MembershipListener : ReceiveActor
    {
        public MembershipListener(ChannelWriter<string> lines)
        {
            var cluster = Cluster.Get(Context.System);
            cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
            Receive<ClusterEvent.IMemberEvent>(e => lines.TryWrite(
                $"{DateTime.UtcNow:HH:mm:ss.fff} {e.GetType().Name} {e.Member.Address} [{string.Join(", ", e.Member.Roles)}] {e.Member.Status}"));
            Receive<ClusterEvent.ReachabilityEvent>(e => lines.TryWrite(
                $"{DateTime.UtcNow:HH:mm:ss.fff} {e.GetType().Name} {e.Member.Address} [{string.Join(", ", e.Member.Roles)}]"));
        }

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}

internal static class ClusterShardingExtensions
{
    /// <summary>The region where this node hosts the type, else its proxy.</summary>
    public static IActorRef ShardRegionProxyOrRegion(this ClusterSharding sharding, string typeName)
    {
        try
        {
            return sharding.ShardRegion(typeName);
        }
        catch (ArgumentException)
        {
            return sharding.ShardRegionProxy(typeName);
        }
    }
}
