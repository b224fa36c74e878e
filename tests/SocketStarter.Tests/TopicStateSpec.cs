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
}
