using Akka.Actor;
using SocketStarter.Gateway.Backend.Sessions;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Tests;

/// <summary>The gateway's session rules without an actor: each decision a client would notice, from events alone.</summary>
public sealed class SessionStateSpec
{
    private static readonly SessionSettings Settings = new(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));
    private static readonly IActorRef FrontendA = new FrontendRef("a");
    private static readonly IActorRef FrontendB = new FrontendRef("b");
    private static readonly DateTime Now = new(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);

    private readonly SessionState _state = new(Settings);
    private readonly string _token;

    public SessionStateSpec()
    {
        var (token, hash) = ResumeToken.Create("s1");
        _token = token;
        ApplyAll(_state.DecideAttach(new Attach("s1", "c1", 1, FrontendA, hash, null, "chat")));
    }

    private string Secret => _token[(_token.IndexOf('.') + 1)..];

    private void ApplyAll(SessionState.AttachDecision decision)
    {
        foreach (var @event in Assert.IsType<SessionState.AttachAccepted>(decision).Events) _state.Apply(@event);
    }

    [Fact]
    public void A_new_session_is_started_and_carried_by_its_first_connection()
    {
        var state = new SessionState(Settings);
        var decision = Assert.IsType<SessionState.AttachAccepted>(state.DecideAttach(new Attach("s2", "c9", 1, FrontendA, "HASH", null, "chat")));
        Assert.Collection(decision.Events,
            e => Assert.Equal(new SessionEvents.Started("HASH", "chat"), e),
            e => Assert.Equal(new SessionEvents.Attached("c9", FrontendA), e));
        Assert.Null(decision.TakenOver);
        Assert.False(decision.RebindTopics);
    }

    [Fact]
    public void A_resume_with_the_wrong_secret_is_refused_and_the_owner_keeps_the_session()
    {
        var refused = Assert.IsType<SessionState.AttachRefused>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, "wrong", "chat")));
        Assert.False(refused.HoldsNoSession);
        Assert.Equal("c1", _state.ConnectionId);
    }

    [Fact]
    public void A_token_does_not_resume_a_session_through_another_application()
    {
        var refused = Assert.IsType<SessionState.AttachRefused>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, Secret, "poll")));
        Assert.False(refused.HoldsNoSession);
        Assert.Equal(("c1", "chat"), (_state.ConnectionId, _state.Application));
    }

    [Fact]
    public void A_resume_while_the_first_connection_is_open_takes_the_session_over_and_moves_the_topics()
    {
        var decision = Assert.IsType<SessionState.AttachAccepted>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, Secret, "chat")));
        Assert.Equal(new FrontendCommands.TakenOver("s1", "c1"), decision.TakenOver);
        Assert.Equal(FrontendA, decision.TakenOverFrontend);
        Assert.True(decision.RebindTopics);
    }

    [Fact]
    public void A_resume_after_a_detach_takes_nothing_over_and_the_expiry_is_cancelled()
    {
        _state.Apply(Assert.IsType<SessionEvents.Detached>(_state.DecideDetach("c1", Now)));
        Assert.Equal(Now + Settings.ResumeWindow, _state.ExpiresAt);

        var decision = Assert.IsType<SessionState.AttachAccepted>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, Secret, "chat")));
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
        _state.Apply(new SessionEvents.PresenceSet("alice"));
        _state.Apply(new SessionEvents.Subscribed("lobby"));
        _state.Apply(SessionEvents.Ended.Instance);

        Assert.True(Assert.IsType<SessionState.AttachRefused>(_state.DecideAttach(new Attach("s1", "c2", 1, FrontendB, null, Secret, "chat"))).HoldsNoSession);
        Assert.Empty(_state.Topics);
        Assert.Null(_state.Presence);
    }
}
