using Akka.Actor;
using SocketStarter.Gateway.Backend.Topics;
using SocketStarter.Messages;
using static SocketStarter.Messages.TopicEvents;

namespace SocketStarter.Tests;

/// <summary>The topic's membership rules without an actor, as the topic decides a batch of commands before it is
/// written: each decision sees the ones before it, and what is persisted changes only when the events are applied.</summary>
public sealed class TopicStateSpec
{
    private static readonly IActorRef FrontendA = new FrontendRef("a");
    private static readonly IActorRef FrontendB = new FrontendRef("b");
    private readonly TopicState _state = new();
    private long _opId;

    private TopicCommands.Subscribe Subscribe(string sessionId, IActorRef frontend, string presence = "alice") =>
        new("chat/lobby", sessionId, ++_opId, presence, frontend, Since: null);

    private TopicCommands.Unsubscribe Unsubscribe(string sessionId) => new("chat/lobby", sessionId, ++_opId, Expired: true);

    [Fact]
    public void A_member_leaving_right_after_joining_in_one_batch_leaves_and_a_second_leave_changes_nothing()
    {
        var joined = _state.DecideSubscribe(Subscribe("s1", FrontendA));
        var left = _state.DecideUnsubscribe(Unsubscribe("s1"));
        Assert.IsType<MemberJoined>(joined);
        Assert.Equal(new MemberLeft("s1"), left);
        Assert.Null(_state.DecideUnsubscribe(Unsubscribe("s1")));
        // Nothing is persisted yet: deliveries still go by what was.
        Assert.Equal(0, _state.MemberCount);

        _state.Apply(joined!);
        Assert.Equal(1, _state.MemberCount);
        _state.Apply(left!);
        Assert.Equal(0, _state.MemberCount);
        Assert.IsType<MemberJoined>(_state.DecideSubscribe(Subscribe("s1", FrontendA)));
    }

    [Fact]
    public void A_member_moving_frontends_and_changing_presence_in_one_batch_is_decided_against_the_earlier_steps()
    {
        var joined = _state.DecideSubscribe(Subscribe("s1", FrontendA));
        var moved = _state.DecideRebind(new TopicCommands.Rebind("chat/lobby", "s1", ++_opId, FrontendB));
        Assert.Equal(new MemberRebound("s1", FrontendB), moved);
        Assert.Null(_state.DecideSubscribe(Subscribe("s1", FrontendB)));
        var renamed = _state.DecideSetPresence(new TopicCommands.SetPresence("chat/lobby", "s1", ++_opId, "alicia"));
        Assert.Equal(new PresenceChanged("s1", "alicia"), renamed);

        foreach (var @event in new ITopicEvent[] { joined!, moved!, renamed! }) _state.Apply(@event);
        Assert.Equal(new Member("s1", "alicia", FrontendB), _state.DecidedMemberOf("s1"));
        Assert.Equal([FrontendB], _state.FrontendsExcept(null));
        Assert.Equal(["alicia"], _state.Presences);
    }

    [Fact]
    public void Events_replayed_from_the_journal_build_the_same_members_without_any_decision()
    {
        var replayed = new TopicState();
        foreach (var @event in new ITopicEvent[] { new MemberJoined("s1", "alice", FrontendA), new MemberJoined("s2", "bob", FrontendA), new MemberLeft("s1") })
            replayed.Apply(@event);
        Assert.Null(replayed.DecidedMemberOf("s1"));
        Assert.Equal(new MemberLeft("s2"), replayed.DecideUnsubscribe(Unsubscribe("s2")));
    }

    [Fact]
    public void A_batch_goes_to_each_frontend_with_members_once_and_a_presence_change_skips_a_frontend_holding_only_its_member()
    {
        foreach (var @event in new ITopicEvent[]
                 {
                     new MemberJoined("s1", "alice", FrontendA), new MemberJoined("s2", "bob", FrontendA), new MemberJoined("s3", "carol", FrontendB),
                 })
            _state.Apply(@event);
        Assert.Equal([FrontendA, FrontendB], _state.FrontendsExcept(null).OrderBy(f => f.Path.Name));
        Assert.Equal([FrontendA], _state.FrontendsExcept("s3"));
        Assert.Equal([FrontendA, FrontendB], _state.FrontendsExcept("s1").OrderBy(f => f.Path.Name));

        // Carol moves to A, bob leaves: B holds nobody and gets nothing; A still has alice and carol.
        _state.Apply(new MemberRebound("s3", FrontendA));
        _state.Apply(new MemberLeft("s2"));
        Assert.Equal([FrontendA], _state.FrontendsExcept(null));
        _state.Apply(new MemberLeft("s1"));
        Assert.Empty(_state.FrontendsExcept("s3"));

        // A snapshot brings back the same frontends.
        var restored = new TopicState();
        restored.Restore(_state.ToSnapshot());
        Assert.Equal([FrontendA], restored.FrontendsExcept(null));
    }

    [Fact]
    public void A_join_gets_the_last_messages_and_a_join_with_since_everything_after_it_oldest_first()
    {
        for (var seq = 1; seq <= TopicState.KeptHistory + 20; seq++)
            _state.Apply(new Published(new TopicMessage(seq, $"m{seq}", null, DateTime.UnixEpoch), "s1", $"c1:{seq}"));

        var last = _state.HistoryFor(since: null).Select(m => m.Seq).ToList();
        Assert.Equal(Enumerable.Range(TopicState.KeptHistory + 20 - TopicState.HistoryOnJoin + 1, TopicState.HistoryOnJoin).Select(s => (long)s), last);
        Assert.Equal([1019L, 1020L], _state.HistoryFor(since: 1018).Select(m => m.Seq));
        // Older than what is kept: everything kept, from the oldest (21).
        var all = _state.HistoryFor(since: 5);
        Assert.Equal((21L, 1020L, TopicState.KeptHistory), (all[0].Seq, all[^1].Seq, all.Count));
        Assert.Empty(_state.HistoryFor(since: 1020));
    }
}
