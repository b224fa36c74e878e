using System.Text.Json;
using Akka.Actor;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Messages.ClientProtocol;
using SocketStarter.Samples.Chat;

namespace SocketStarter.Tests;

/// <summary>The chat's rules without an actor: what each client request leads to, given the session as the gateway holds it.</summary>
public sealed class ChatRulesSpec
{
    private static readonly IActorRef Names = ActorRefs.Nobody;
    private readonly ChatRules _rules = new(Names, new ChatSettings(MaxRooms: 3));

    private static SessionView Session(string? name = null, params string[] rooms) => new("s1", name, rooms, "c1:7");

    private Step Decide(SessionView session, string frame) => _rules.Decide(session, ChatRequest.Parse(frame));

    private static Step.Error Error(Step step) => Assert.IsType<Step.Error>(step);

    [Fact]
    public void Joining_needs_a_name_first()
    {
        var error = Error(Decide(Session(), """{"type":"join","room":"lobby"}"""));
        Assert.Equal((ChatErrorCodes.NotRegistered, "join"), (error.Code, error.Ref));
    }

    [Fact]
    public void A_session_joins_at_most_its_room_limit_but_may_join_a_room_it_is_in_again()
    {
        var full = Session("alice", "a", "b", "c");
        Assert.Equal(ChatErrorCodes.TooManyRooms, Error(Decide(full, """{"type":"join","room":"d"}""")).Code);
        Assert.Equal(new Step.Subscribe("b", 4), Decide(full, """{"type":"join","room":"B","since":4}"""));
    }

    [Fact]
    public void Saying_or_leaving_needs_the_room_joined()
    {
        Assert.Equal(ChatErrorCodes.NotJoined, Error(Decide(Session("alice"), """{"type":"say","room":"lobby","text":"hi"}""")).Code);
        Assert.Equal(ChatErrorCodes.NotJoined, Error(Decide(Session("alice"), """{"type":"leave","room":"lobby"}""")).Code);

        var inLobby = Session("alice", "lobby");
        var publish = Assert.IsType<Step.Publish>(Decide(inLobby, """{"type":"say","room":"lobby","text":"hi","id":"m1"}"""));
        Assert.Equal(("lobby", "m1"), (publish.Topic, publish.DedupeId));
        Assert.Equal("""{"from":"alice","text":"hi","id":"m1"}""", publish.Payload);
        Assert.Equal(new Step.Unsubscribe("lobby"), Decide(inLobby, """{"type":"leave","room":"lobby"}"""));
    }

    [Fact]
    public void A_new_name_is_claimed_then_shown_and_the_old_one_released_unless_only_its_case_changes()
    {
        Assert.Equal(ChatFrames.Registered("alice"), Assert.IsType<Step.Reply>(Decide(Session("alice"), """{"type":"register","name":"alice"}""")).Frame);

        var sameName = Granted(Decide(Session("alice"), """{"type":"register","name":"Alice"}"""), expectClaimOf: "alice");
        Assert.Equal(new Step.SetPresence("Alice"), sameName.Steps[0]);
        Assert.DoesNotContain(sameName.Steps, step => step is Step.Ask);

        var newName = Granted(Decide(Session("alice"), """{"type":"register","name":"bob"}"""), expectClaimOf: "bob");
        Assert.Equal(new Step.SetPresence("bob"), newName.Steps[0]);
        var release = Assert.IsType<NameCommands.Release>(Assert.IsType<Step.Ask>(newName.Steps[1]).Operation(8));
        Assert.Equal("alice", release.NameKey);
        Assert.Equal(ChatFrames.Registered("bob"), Assert.IsType<Step.Reply>(newName.Steps[2]).Frame);
    }

    [Fact]
    public void A_name_the_registry_refuses_is_name_taken()
    {
        var ask = Assert.IsType<Step.Ask>(Decide(Session(), """{"type":"register","name":"bob"}"""));
        Assert.Equal(ChatErrorCodes.NameTaken, Error(ask.Next(new NameReplies.ClaimResult("bob", 7, Granted: false))).Code);
    }

    [Fact]
    public void An_ended_session_frees_its_name()
    {
        var ask = Assert.IsType<Step.Ask>(_rules.Ended(Session("Alice", "lobby")));
        Assert.Equal("alice", Assert.IsType<NameCommands.Release>(ask.Operation(3)).NameKey);
        Assert.Equal(Step.None, _rules.Ended(Session()));
    }

    [Fact]
    public void A_malformed_frame_is_rejected_with_its_field_rule()
    {
        var error = Error(Decide(Session("alice", "lobby"), """{"type":"say","room":"lobby"}"""));
        Assert.Equal((ErrorCodes.BadFrame, "say"), (error.Code, error.Ref));
    }

    /// <summary>The claim the step asks of the registry, then what follows once the registry grants it.</summary>
    private static Step.All Granted(Step step, string expectClaimOf)
    {
        var ask = Assert.IsType<Step.Ask>(step);
        Assert.Same(Names, ask.Target);
        var claim = Assert.IsType<NameCommands.Claim>(ask.Operation(7));
        Assert.Equal((expectClaimOf, "s1", 7L), (claim.NameKey, claim.SessionId, claim.OpId));
        return Assert.IsType<Step.All>(ask.Next(new NameReplies.ClaimResult(claim.NameKey, 7, Granted: true)));
    }
}
