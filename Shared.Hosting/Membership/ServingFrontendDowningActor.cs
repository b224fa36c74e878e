using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace SocketStarter.Shared.Hosting.Membership;

/// <summary>
/// The cluster's downing provider (<c>akka.cluster.downing-provider-class</c>): Akka's split-brain resolver timing
/// (act on the leader, once the observations have been stable for <c>split-brain-resolver.stable-after</c>, or for
/// <c>socketstarter.downing.whole-picture-stable-after</c> once they are a whole picture:
/// <see cref="DowningRules.IsWholePicture"/>) with <see cref="DowningRules"/>, which never leave the cluster without a
/// frontend.
/// </summary>
public sealed class ServingFrontendDowning : IDowningProvider
{
    private readonly ActorSystem _system;
    private readonly TimeSpan _stableAfter;
    private readonly TimeSpan _wholePictureStableAfter;

    /// <summary>The constructor Akka calls for a downing provider.</summary>
    public ServingFrontendDowning(ActorSystem system, Cluster cluster)
    {
        _system = system;
        _stableAfter = system.Settings.Config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after");
        _wholePictureStableAfter = system.Settings.Config.GetTimeSpan("socketstarter.downing.whole-picture-stable-after", _stableAfter);
    }
    /// <summary>How long shards and singletons of a downed member wait before they start elsewhere (as Akka's resolver:
    /// <c>down-removal-margin</c> when set, else <c>stable-after</c>).</summary>
    public TimeSpan DownRemovalMargin =>
        _system.Settings.Config.GetString("akka.cluster.down-removal-margin") is "off" or null or ""
            ? _stableAfter
            : _system.Settings.Config.GetTimeSpan("akka.cluster.down-removal-margin");

    public Props DowningActorProps => ServingFrontendDowningActor.Props(_stableAfter, _wholePictureStableAfter);

    public const string ConfigValue =
        "\"SocketStarter.Shared.Hosting.Membership.ServingFrontendDowning, SocketStarter.Shared.Hosting\"";
}

/// <summary>Follows membership and who observes whom as unreachable; the leader downs what the rules say once stable.</summary>
public sealed class ServingFrontendDowningActor : ReceiveActor, IWithTimers
{
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeSpan _stableAfter;
    private readonly TimeSpan _wholePictureStableAfter;
    private readonly Dictionary<Address, Member> _members = new();
    private IReadOnlyList<DowningRules.Unreachable> _observations = [];
    private bool _leader;
    private DateTime _stableSince = DateTime.UtcNow;
    private IReadOnlySet<Address> _downed = new HashSet<Address>();

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan stableAfter, TimeSpan wholePictureStableAfter) =>
        Akka.Actor.Props.Create(() => new ServingFrontendDowningActor(stableAfter, wholePictureStableAfter));

    public ServingFrontendDowningActor(TimeSpan stableAfter, TimeSpan wholePictureStableAfter)
    {
        _stableAfter = stableAfter;
        _wholePictureStableAfter = wholePictureStableAfter;
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            foreach (var member in state.Members) _members[member.Address] = member;
            _leader = _cluster.SelfAddress.Equals(state.Leader);
        });
        Receive<ClusterEvent.IMemberEvent>(changed =>
        {
            if (changed is ClusterEvent.MemberRemoved) _members.Remove(changed.Member.Address);
            else _members[changed.Member.Address] = changed.Member;
            Unstable();
        });
        Receive<ClusterEvent.LeaderChanged>(changed => _leader = _cluster.SelfAddress.Equals(changed.Leader));
        Receive<ClusterEvent.IReachabilityEvent>(_ => Unstable());
        Receive<Tick>(_ => DecideIfStable());
        Receive<ClusterEvent.IClusterDomainEvent>(OnOtherClusterEvent);
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IClusterDomainEvent));
        // Often enough that a decision follows stable-after closely (it is 1 s; a 1 s tick added up to another second).
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.FromMilliseconds(200));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>
    /// Who observes whom comes only in Akka's internal <c>ReachabilityChanged</c> event (the records its own resolver
    /// reads); it is read by name. A unit test fails if an Akka upgrade renames it.
    /// </summary>
    private void OnOtherClusterEvent(ClusterEvent.IClusterDomainEvent @event)
    {
        if (ReachabilityRecords.Read(@event) is not { } observations) return;
        if (observations.ToHashSet().SetEquals(_observations)) return;
        _observations = observations;
        Unstable();
    }

    private void Unstable() => _stableSince = DateTime.UtcNow;

    private void DecideIfStable()
    {
        if (!_leader || _observations.Count == 0) return;
        var live = _members.Values
            .Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Removed or MemberStatus.Leaving))
            .OrderBy(m => m, Member.AgeOrdering)
            .Select((m, rank) => new DowningRules.Node(m.Address, m.HasRole(ClusterNodeSettings.FrontendRole), rank))
            .ToList();
        var stableFor = DowningRules.IsWholePicture(live, _observations) ? _wholePictureStableAfter : _stableAfter;
        if (DateTime.UtcNow - _stableSince < stableFor) return;
        var down = DowningRules.Decide(live, _observations);
        if (down.Count == 0 || down.SetEquals(_downed)) return;
        _downed = down;
        _log.Warning("Downing [{0}]: unreachable observations [{1}]", string.Join(", ", down),
            string.Join(", ", _observations.Select(o => $"{o.Observer} -> {o.Subject}")));
        // Self last: once this node is down it may not get to the others.
        foreach (var address in down.OrderBy(address => address.Equals(_cluster.SelfAddress))) _cluster.Down(address);
    }
}
