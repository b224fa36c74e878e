using Akka.Actor;
using SocketStarter.Backend.Sessions;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Tests;

/// <summary>The session's rules without an actor: each decision a client would notice, from events alone.</summary>
public sealed class SessionStateSpec
{
    private static readonly SessionSettings Settings = new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1), MaxRooms: 3);
    private static readonly IActorRef FrontendA = new FrontendRef("a");
    private static readonly IActorRef FrontendB = new FrontendRef("b");
    private static readonly DateTime Now = new(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);

    private readonly SessionState _state = new(Settings);
    private readonly string _token;

    public SessionStateSpec()
    {
        var (token, hash) = ResumeToken.Create("s1");
        _token = token;
        ApplyAll(_state.DecideAttach(new Attach("s1", "c1", 1, FrontendA, hash, null)));
    }

    private string Secret => _token[(_token.IndexOf('.') + 1)..];

    private void ApplyAll(SessionState.AttachDecision decision)
    {
        foreach (var @event in Assert.IsType<SessionState.AttachAccepted>(decision).Events) _state.Apply(@event);
    }

    private SessionState.FrameDecision Decide(string frame) => _state.DecideFrame(ClientRequest.Parse(frame));

    private void Registered(string name) => _state.Apply(new SessionEvents.NameSet(name));

    [Fact]
    public void A_new_session_is_started_and_carried_by_its_first_connection()
    {
        var state = new SessionState(Settings);
        var decision = Assert.IsType<SessionState.AttachAccepted>(state.DecideAttach(new Attach("s2", "c9", 1, FrontendA, "HASH", null)));
        Assert.Collection(decision.Events,
            e => Assert.Equal(new SessionEvents.Started("HASH"), e),
            e => Assert.Equal(new SessionEvents.Attached("c9", FrontendA), e));
        Assert.Null(decision.TakenOver);
        Assert.False(decision.RebindRooms);
    }

    [Fact]
    public void A_resume_with_the_wrong_secret_is_refused_and_the_owner_keeps_the_session()
    {
        var refused = Assert.IsType<SessionState.AttachRefused>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, "wrong")));
        Assert.False(refused.HoldsNoSession);
        Assert.Equal("c1", _state.ConnectionId);
    }

    [Fact]
    public void A_resume_while_the_first_connection_is_open_takes_the_session_over_and_moves_the_rooms()
    {
        var decision = Assert.IsType<SessionState.AttachAccepted>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, Secret)));
        Assert.Equal(new FrontendCommands.TakenOver("s1", "c1"), decision.TakenOver);
        Assert.Equal(FrontendA, decision.TakenOverFrontend);
        Assert.True(decision.RebindRooms);
    }

    [Fact]
    public void A_resume_after_a_detach_takes_nothing_over_and_the_expiry_is_cancelled()
    {
        _state.Apply(Assert.IsType<SessionEvents.Detached>(_state.DecideDetach("c1", Now)));
        Assert.Equal(Now + Settings.ResumeWindow, _state.ExpiresAt);

        var decision = Assert.IsType<SessionState.AttachAccepted>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, Secret)));
        Assert.Null(decision.TakenOver);
        ApplyAll(decision);
        Assert.Null(_state.ExpiresAt);
    }

    [Fact]
    public void Only_the_connection_that_carries_the_session_detaches_it()
    {
        Assert.Null(_state.DecideDetach("c-old", Now));
        Assert.Null(_state.DecideFrontendLost(FrontendB, Now));
        Assert.Equal(new SessionEvents.Detached("c1", Now), _state.DecideFrontendLost(FrontendA, Now));
    }

    [Fact]
    public void A_detached_session_expires_when_its_resume_window_has_passed()
    {
        _state.Apply(new SessionEvents.Detached("c1", Now));
        Assert.False(_state.HasExpired(Now + Settings.ResumeWindow - TimeSpan.FromSeconds(1)));
        Assert.True(_state.HasExpired(Now + Settings.ResumeWindow));
    }

    [Fact]
    public void An_ended_session_refuses_every_resume_and_holds_nothing()
    {
        _state.Apply(new SessionEvents.NameSet("alice"));
        _state.Apply(new SessionEvents.RoomJoined("lobby"));
        _state.Apply(SessionEvents.Ended.Instance);

        Assert.True(Assert.IsType<SessionState.AttachRefused>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, Secret))).HoldsNoSession);
        Assert.Empty(_state.Rooms);
        Assert.Null(_state.Name);
    }

    [Fact]
    public void Joining_needs_a_name_first()
    {
        var reject = Assert.IsType<SessionState.Reject>(Decide("""{"type":"join","room":"lobby"}"""));
        Assert.Equal((ErrorCodes.NotRegistered, "join"), (reject.Code, reject.Ref));
    }

    [Fact]
    public void A_session_joins_at_most_its_room_limit_but_may_join_a_room_it_is_in_again()
    {
        Registered("alice");
        foreach (var room in new[] { "a", "b", "c" }) _state.Apply(new SessionEvents.RoomJoined(room));

        var reject = Assert.IsType<SessionState.Reject>(Decide("""{"type":"join","room":"d"}"""));
        Assert.Equal(ErrorCodes.TooManyRooms, reject.Code);
        var again = Assert.IsType<SessionState.JoinRoom>(Decide("""{"type":"join","room":"B","since":4}"""));
        Assert.Equal(new SessionState.JoinRoom("b", "alice", 4, AlreadyJoined: true), again);
    }

    [Fact]
    public void Saying_or_leaving_needs_the_room_joined()
    {
        Registered("alice");
        Assert.Equal(ErrorCodes.NotJoined, Assert.IsType<SessionState.Reject>(Decide("""{"type":"say","room":"lobby","text":"hi"}""")).Code);
        Assert.Equal(ErrorCodes.NotJoined, Assert.IsType<SessionState.Reject>(Decide("""{"type":"leave","room":"lobby"}""")).Code);

        _state.Apply(new SessionEvents.RoomJoined("lobby"));
        Assert.Equal(new SessionState.PostToRoom("lobby", "alice", "hi", "m1"), Decide("""{"type":"say","room":"lobby","text":"hi","id":"m1"}"""));
        Assert.Equal(new SessionState.LeaveRoom("lobby"), Decide("""{"type":"leave","room":"lobby"}"""));
        _state.Apply(new SessionEvents.RoomLeft("lobby"));
        Assert.Empty(_state.Rooms);
    }

    [Fact]
    public void A_new_name_is_claimed_and_the_old_one_released_unless_only_its_case_changes()
    {
        Assert.Equal(new SessionState.ClaimName("alice", "alice", null), Decide("""{"type":"register","name":"alice"}"""));
        Registered("alice");
        Assert.Equal(new SessionState.AlreadyRegistered("alice"), Decide("""{"type":"register","name":"alice"}"""));
        Assert.Equal(new SessionState.ClaimName("Alice", "alice", null), Decide("""{"type":"register","name":"Alice"}"""));
        Assert.Equal(new SessionState.ClaimName("bob", "bob", "alice"), Decide("""{"type":"register","name":"bob"}"""));
    }

    [Fact]
    public void A_malformed_frame_is_rejected_with_its_field_rule()
    {
        var reject = Assert.IsType<SessionState.Reject>(Decide("""{"type":"say","room":"lobby"}"""));
        Assert.Equal((ErrorCodes.BadFrame, "say"), (reject.Code, reject.Ref));
    }

    /// <summary>A frontend fan-out as the events hold it: only its path matters to the rules.</summary>
    private sealed class FrontendRef(string name) : MinimalActorRef
    {
        public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "test")) / "user" / name;
        public override IActorRefProvider Provider => throw new NotSupportedException();
    }
}
