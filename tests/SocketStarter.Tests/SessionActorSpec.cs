using System.Text.Json;
using Akka.Actor;
using Akka.TestKit;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Gateway.Backend.Sessions;
using SocketStarter.Samples.Chat;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Tests;

/// <summary>A session entity running the chat: the gateway's mechanics (order, acknowledgement, retries, resume,
/// expiry) as a chat client meets them.</summary>
public sealed class SessionActorSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Steps are retried only in the test about retries: on a busy CI machine a 200 ms retry fired before the
    /// test had answered, and its second Subscribe stood where a test expected the Rebind (CI of 37f76b9).</summary>
    private SessionSettings _settings = new(ResumeWindow: TimeSpan.FromMilliseconds(500), RetryInterval: TimeSpan.FromMinutes(1));
    private readonly TestProbe _rooms;
    private readonly TestProbe _names;
    private readonly TestProbe _frontend;
    private readonly string _sessionId = ResumeToken.NewSessionId();
    private readonly (string Token, string SecretHash) _token;
    private long _seqNo;

    public SessionActorSpec() : base(TestConfig.Persistent)
    {
        _rooms = CreateTestProbe("rooms");
        _names = CreateTestProbe("names");
        _frontend = CreateTestProbe("frontend");
        _token = ResumeToken.Create(_sessionId);
    }

    private ChatSettings _chat = new(MaxRooms: 100);

    private IActorRef StartSession() =>
        Sys.ActorOf(SessionActor.Props(_sessionId, _rooms, new Dictionary<string, IGatewayApplication> { [ChatApplication.Name] = new ChatApplication(_names, _chat) }, _settings));

    private IActorRef Attached(string connectionId = "c1")
    {
        var session = StartSession();
        session.Tell(new Attach(_sessionId, connectionId, ++_seqNo, _frontend, _token.SecretHash, null, "chat"));
        _frontend.ExpectMsg<FrontendCommands.Acknowledged>(a => a.SeqNo == _seqNo);
        return session;
    }

    private ClientFrame Frame(object payload, string connectionId = "c1") =>
        new(_sessionId, connectionId, ++_seqNo, _frontend, JsonSerializer.Serialize(payload));

    private JsonElement ExpectClientFrame(string type)
    {
        var toSession = _frontend.ExpectMsg<FrontendCommands.ToSession>();
        var frame = JsonDocument.Parse(toSession.Frame).RootElement;
        Assert.Equal(type, frame.GetProperty("type").GetString());
        return frame;
    }

    private void ExpectAck(long seqNo) => _frontend.ExpectMsg<FrontendCommands.Acknowledged>(a => a.SeqNo == seqNo);

    private IActorRef Registered(string name = "alice")
    {
        var session = Attached();
        session.Tell(Frame(new { type = "register", name }));
        var claim = _names.ExpectMsg<NameCommands.Claim>();
        Assert.Equal(name.ToLowerInvariant(), claim.NameKey);
        _names.Reply(new NameReplies.ClaimResult(claim.NameKey, claim.OpId, true));
        Assert.Equal(name, ExpectClientFrame("registered").GetProperty("name").GetString());
        ExpectAck(_seqNo);
        return session;
    }

    private IActorRef Joined(string room = "lobby")
    {
        var session = Registered();
        session.Tell(Frame(new { type = "join", room }));
        var join = _rooms.ExpectMsg<TopicCommands.Subscribe>();
        _rooms.Reply(new TopicReplies.Done(join.TopicId, join.OpId));
        ExpectAck(_seqNo);
        return session;
    }

    [Fact]
    public void A_session_at_its_room_limit_is_refused_a_new_room_but_may_join_one_of_its_own_again()
    {
        _chat = new ChatSettings(MaxRooms: 1);
        var session = Joined("lobby");
        session.Tell(Frame(new { type = "join", room = "second" }));
        Assert.Equal("too_many_rooms", ExpectClientFrame("error").GetProperty("code").GetString());
        ExpectAck(_seqNo);
        _rooms.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        session.Tell(Frame(new { type = "join", room = "lobby" }));
        var join = _rooms.ExpectMsg<TopicCommands.Subscribe>();
        Assert.Equal("chat/lobby", join.TopicId);
    }

    [Fact]
    public void Register_acknowledges_only_after_the_name_registry_granted_the_name()
    {
        var session = Attached();
        session.Tell(Frame(new { type = "register", name = "alice" }));
        var claim = _names.ExpectMsg<NameCommands.Claim>();
        _frontend.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        _names.Reply(new NameReplies.ClaimResult(claim.NameKey, claim.OpId, Granted: true));
        ExpectClientFrame("registered");
        ExpectAck(_seqNo);
    }

    [Fact]
    public void A_name_held_by_another_session_is_refused()
    {
        var session = Attached();
        session.Tell(Frame(new { type = "register", name = "bob" }));
        var claim = _names.ExpectMsg<NameCommands.Claim>();
        _names.Reply(new NameReplies.ClaimResult(claim.NameKey, claim.OpId, Granted: false));
        Assert.Equal("name_taken", ExpectClientFrame("error").GetProperty("code").GetString());
        ExpectAck(_seqNo);
    }

    [Fact]
    public void An_unanswered_step_is_retried_until_the_other_entity_answers()
    {
        _settings = _settings with { RetryInterval = TimeSpan.FromMilliseconds(200) };
        var session = Attached();
        session.Tell(Frame(new { type = "register", name = "alice" }));
        var first = _names.ExpectMsg<NameCommands.Claim>();
        var retry = _names.ExpectMsg<NameCommands.Claim>(TimeSpan.FromSeconds(2));
        Assert.Equal(first, retry);
        _names.Reply(new NameReplies.ClaimResult(retry.NameKey, retry.OpId, true));
        ExpectClientFrame("registered");
        ExpectAck(_seqNo);
    }

    [Fact]
    public void Frames_wait_for_the_step_before_them_so_order_is_kept()
    {
        var session = Registered();
        session.Tell(Frame(new { type = "join", room = "lobby" }));
        var joinSeq = _seqNo;
        session.Tell(Frame(new { type = "say", room = "lobby", text = "first" }));
        var join = _rooms.ExpectMsg<TopicCommands.Subscribe>();
        var session2 = _rooms.LastSender;
        _rooms.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the say waits for the join it follows
        session2.Tell(new TopicReplies.Done(join.TopicId, join.OpId));
        ExpectAck(joinSeq);
        var post = _rooms.FishForMessage<TopicCommands.Publish>(_ => true);
        Assert.Equal("first", JsonDocument.Parse(post.Payload).RootElement.GetProperty("text").GetString());
        Assert.Equal($"c1:{_seqNo}", post.EnvelopeKey);
    }

    [Fact]
    public void A_repeated_envelope_is_acknowledged_again_but_applied_once()
    {
        var session = Joined();
        var say = Frame(new { type = "say", room = "lobby", text = "once", id = "m1" });
        session.Tell(say);
        var post = _rooms.ExpectMsg<TopicCommands.Publish>();
        _rooms.Reply(new TopicReplies.Done(post.TopicId, post.OpId));
        ExpectAck(say.SeqNo);
        session.Tell(say);
        ExpectAck(say.SeqNo);
        _rooms.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Theory]
    [InlineData("""{"type":"join","room":"lobby"}""", "not_registered")]
    [InlineData("""{"type":"dance"}""", "unknown_type")]
    [InlineData("""{"type":"register"}""", "bad_frame")]
    [InlineData("""{"type":"register","name":"a b"}""", "invalid_name")]
    public void Rule_violations_are_answered_with_their_error_code(string payload, string code)
    {
        var session = Attached();
        session.Tell(new ClientFrame(_sessionId, "c1", ++_seqNo, _frontend, payload));
        Assert.Equal(code, ExpectClientFrame("error").GetProperty("code").GetString());
        ExpectAck(_seqNo);
    }

    [Fact]
    public void Saying_in_a_room_not_joined_is_not_joined()
    {
        var session = Joined("lobby");
        session.Tell(Frame(new { type = "say", room = "games", text = "hi" }));
        Assert.Equal("not_joined", ExpectClientFrame("error").GetProperty("code").GetString());
        ExpectAck(_seqNo);
        _rooms.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Name_and_rooms_survive_a_restart_of_the_entity()
    {
        var session = Joined("lobby");
        Watch(session);
        Sys.Stop(session);
        ExpectTerminated(session);

        var revived = StartSession();
        revived.Tell(Frame(new { type = "say", room = "lobby", text = "after restart" }));
        var post = _rooms.ExpectMsg<TopicCommands.Publish>();
        Assert.Equal("alice", JsonDocument.Parse(post.Payload).RootElement.GetProperty("from").GetString());
    }

    [Fact]
    public void A_session_started_again_tells_its_connection_to_send_its_frame_in_flight_now()
    {
        var session = Joined("lobby");
        Watch(session);
        Sys.Stop(session);
        ExpectTerminated(session);

        StartSession();
        var ready = _frontend.ExpectMsg<FrontendCommands.SessionReady>();
        Assert.Equal((_sessionId, "c1"), (ready.SessionId, ready.ConnectionId));
    }

    [Fact]
    public void A_detached_session_started_again_has_no_connection_to_tell()
    {
        var session = Joined("lobby");
        session.Tell(new Detach(_sessionId, "c1", ++_seqNo, _frontend, EndSession: false));
        ExpectAck(_seqNo);
        Watch(session);
        Sys.Stop(session);
        ExpectTerminated(session);

        StartSession();
        _frontend.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void Resume_with_the_right_secret_rebinds_the_rooms_to_the_new_frontend()
    {
        var session = Joined("lobby");
        var token = _token.Token;
        ResumeToken.TryParse(token, out _, out var secret);
        var newFrontend = CreateTestProbe();
        session.Tell(new Attach(_sessionId, "c2", 1, newFrontend, null, secret, "chat"));
        var rebind = _rooms.ExpectMsg<TopicCommands.Rebind>();
        Assert.Equal(newFrontend.Ref, rebind.Frontend);
        _rooms.Reply(new TopicReplies.Done(rebind.TopicId, rebind.OpId));
        newFrontend.ExpectMsg<FrontendCommands.Acknowledged>(a => a.ConnectionId == "c2");
    }

    [Fact]
    public void Resume_with_a_wrong_secret_is_refused_and_the_owner_carries_on()
    {
        var session = Registered();
        Watch(session);
        session.Tell(new Attach(_sessionId, "c2", 1, _frontend, null, "not-the-secret", "chat"));
        _frontend.ExpectMsg<FrontendCommands.ResumeRefused>(r => r.ConnectionId == "c2");

        // Still the same live session for its own connection: not stopped, not taken over.
        session.Tell(Frame(new { type = "register", name = "alice" }));
        Assert.Equal("alice", ExpectClientFrame("registered").GetProperty("name").GetString());
        ExpectAck(_seqNo);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_second_resume_with_the_right_secret_closes_the_connection_still_open()
    {
        var session = Attached();
        ResumeToken.TryParse(_token.Token, out _, out var secret);
        var newFrontend = CreateTestProbe();
        session.Tell(new Attach(_sessionId, "c2", 1, newFrontend, null, secret, "chat"));
        _frontend.ExpectMsg<FrontendCommands.TakenOver>(t => t.ConnectionId == "c1" && t.SessionId == _sessionId);
        newFrontend.ExpectMsg<FrontendCommands.Acknowledged>(a => a.ConnectionId == "c2");
    }

    [Fact]
    public void A_frame_with_a_lone_surrogate_is_answered_bad_frame_and_acknowledged()
    {
        var session = Registered();
        session.Tell(new ClientFrame(_sessionId, "c1", ++_seqNo, _frontend, "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"\\ud800\"}"));
        Assert.Equal("bad_frame", ExpectClientFrame("error").GetProperty("code").GetString());
        ExpectAck(_seqNo);
    }

    [Fact]
    public void A_session_not_resumed_in_time_leaves_its_rooms_and_frees_its_name()
    {
        var session = Joined("lobby");
        session.Tell(new Detach(_sessionId, "c1", ++_seqNo, _frontend));
        ExpectAck(_seqNo);

        var leave = _rooms.ExpectMsg<TopicCommands.Unsubscribe>(TimeSpan.FromSeconds(3));
        Assert.True(leave.Expired);
        _rooms.Reply(new TopicReplies.Done(leave.TopicId, leave.OpId));
        var release = _names.ExpectMsg<NameCommands.Release>();
        Assert.Equal("alice", release.NameKey);
        _names.Reply(new NameReplies.Released(release.NameKey, release.OpId));

        ResumeToken.TryParse(_token.Token, out _, out var secret);
        session.Tell(new Attach(_sessionId, "c2", 1, _frontend, null, secret, "chat"));
        _frontend.FishForMessage(m => m is FrontendCommands.ResumeRefused);
    }
}
