using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Streams;
using Akka.TestKit;
using SocketStarter.Gateway.Frontend;
using SocketStarter.Gateway.Frontend.Connections;
using SocketStarter.Messages;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Tests;

/// <summary>The connection actor over a real WebSocket on loopback; probes stand in for the session region and fan-out.</summary>
public sealed class ConnectionActorSpec : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly FrontendSettings Settings = new(
        HoldLimit: TimeSpan.FromSeconds(1.5), MaxHeldFrames: 3, MaxQueuedWhileBusy: 2, MaxQueueWait: TimeSpan.FromMilliseconds(500), InboundBuffer: 4, OutboundLimit: 8,
        FirstRetry: TimeSpan.FromMilliseconds(200), MaxRetry: TimeSpan.FromMilliseconds(400), AlsoToMovedSession: TimeSpan.FromMinutes(1),
        FramesPerSecond: 1000, FrameBurst: 1000, MaxConnectionsPerAddress: 10);

    private readonly TestProbe _sessions;
    private readonly TestProbe _fanout;
    private WebSocket _server = null!;
    private WebSocket _client = null!;
    private TcpListener _listener = null!;

    public ConnectionActorSpec() : base($"akka.loglevel = WARNING\n{ConnectionMailbox.Hocon}")
    {
        _sessions = CreateTestProbe();
        _fanout = CreateTestProbe();
    }

    public async Task InitializeAsync()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var clientTcp = new TcpClient();
        var accept = _listener.AcceptTcpClientAsync();
        await clientTcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var serverTcp = await accept;
        _server = WebSocket.CreateFromStream(serverTcp.GetStream(), new WebSocketCreationOptions { IsServer = true });
        _client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions { IsServer = false });
    }

    public Task DisposeAsync()
    {
        _client.Abort();
        _server.Abort();
        _listener.Stop();
        return Task.CompletedTask;
    }

    private IActorRef StartConnection(string? resume = null, FrontendSettings? settings = null) =>
        Sys.ActorOf(ConnectionActor.Props(new WebSocketChannel(_server), "chat", resumable: true, resume, _sessions, _fanout, settings ?? Settings,
            Sys.Materializer(), new TaskCompletionSource()));

    private async Task<JsonElement> ReadClientFrame()
    {
        var buffer = new byte[70_000];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var result = await _client.ReceiveAsync(buffer, timeout.Token);
        return JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count)).RootElement.Clone();
    }

    private Attach AttachedFresh(IActorRef connection)
    {
        var attach = _sessions.ExpectMsg<Attach>();
        Assert.NotNull(attach.NewTokenHash);
        connection.Tell(new FrontendCommands.Acknowledged(attach.SessionId, attach.ConnectionId, attach.SeqNo));
        return attach;
    }

    private static ConnectionActor.TextFrame Text(object frame) => new(JsonSerializer.Serialize(frame));

    [Fact]
    public async Task A_new_connection_gets_a_welcome_and_attaches_a_fresh_session()
    {
        var connection = StartConnection();
        var welcome = await ReadClientFrame();
        Assert.Equal("welcome", welcome.GetProperty("type").GetString());
        Assert.False(welcome.GetProperty("resumed").GetBoolean());
        var attach = _sessions.ExpectMsg<Attach>();
        Assert.Equal(welcome.GetProperty("session").GetString(), attach.SessionId);
        Assert.Equal(_fanout.Ref, attach.Frontend);
        _fanout.ExpectMsg<FanoutActor.Register>(r => r.SessionId == attach.SessionId && r.Connection.Equals(connection));
    }

    [Fact]
    public void Frames_go_one_at_a_time_in_order_and_are_resent_until_acknowledged()
    {
        var connection = StartConnection();
        var attach = AttachedFresh(connection);
        connection.Tell(Text(new { type = "say", text = "one" }));
        connection.Tell(Text(new { type = "say", text = "two" }));

        // Fished: a busy machine may let the Attach be resent before the test's acknowledgement reached the connection.
        var first = _sessions.FishForMessage<ClientFrame>(_ => true);
        Assert.Contains("one", first.Payload);
        Assert.Equal(first, _sessions.FishForMessage<ClientFrame>(_ => true, TimeSpan.FromSeconds(2)));
        connection.Tell(new FrontendCommands.Acknowledged(attach.SessionId, attach.ConnectionId, first.SeqNo));
        var second = _sessions.FishForMessage<ClientFrame>(f => f.SeqNo != first.SeqNo);
        Assert.Contains("two", second.Payload);
        Assert.Equal(first.SeqNo + 1, second.SeqNo);
    }

    [Fact]
    public void A_frame_lost_with_its_sessions_old_incarnation_is_sent_again_as_soon_as_the_session_is_ready()
    {
        // Resends far apart, as after a stall has backed them off: only the session's word brings the frame sooner.
        var connection = StartConnection(settings: Settings with { FirstRetry = TimeSpan.FromSeconds(10), MaxRetry = TimeSpan.FromSeconds(10) });
        var attach = AttachedFresh(connection);
        connection.Tell(new FrontendCommands.Acknowledged(attach.SessionId, attach.ConnectionId, attach.SeqNo));
        connection.Tell(Text(new { type = "say", text = "one" }));
        var sent = _sessions.ExpectMsg<ClientFrame>();

        // The session's new incarnation announces itself; the frame goes to it directly as well as through the
        // session proxy, which may still route the shard to the old home.
        var newIncarnation = CreateTestProbe();
        connection.Tell(new FrontendCommands.SessionReady("another session", attach.ConnectionId), newIncarnation);
        newIncarnation.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        _sessions.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        connection.Tell(new FrontendCommands.SessionReady(attach.SessionId, attach.ConnectionId), newIncarnation);
        Assert.Equal(sent, newIncarnation.ExpectMsg<ClientFrame>(TimeSpan.FromSeconds(3)));
        Assert.Equal(sent, _sessions.ExpectMsg<ClientFrame>(TimeSpan.FromSeconds(3)));

        // Settled: a later word from the session resends nothing; the next frame goes both ways too.
        connection.Tell(new FrontendCommands.Acknowledged(attach.SessionId, attach.ConnectionId, sent.SeqNo));
        connection.Tell(new FrontendCommands.SessionReady(attach.SessionId, attach.ConnectionId), newIncarnation);
        newIncarnation.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        _sessions.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        connection.Tell(Text(new { type = "say", text = "two" }));
        var next = newIncarnation.ExpectMsg<ClientFrame>(TimeSpan.FromSeconds(3));
        Assert.Contains("two", next.Payload);
        Assert.Equal(next, _sessions.ExpectMsg<ClientFrame>(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void Once_the_moved_session_had_time_to_be_found_steps_go_through_the_session_proxy_only()
    {
        var connection = StartConnection(settings: Settings with { AlsoToMovedSession = TimeSpan.FromMilliseconds(200) });
        var attach = AttachedFresh(connection);
        connection.Tell(new FrontendCommands.Acknowledged(attach.SessionId, attach.ConnectionId, attach.SeqNo));
        var newIncarnation = CreateTestProbe();
        connection.Tell(new FrontendCommands.SessionReady(attach.SessionId, attach.ConnectionId), newIncarnation);

        Thread.Sleep(400);
        connection.Tell(Text(new { type = "say", text = "later" }));
        Assert.Contains("later", _sessions.FishForMessage<ClientFrame>(_ => true).Payload);
        newIncarnation.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_frame_that_is_not_a_json_object_with_a_type_gets_bad_frame_without_the_backend()
    {
        var connection = StartConnection();
        await ReadClientFrame();
        AttachedFresh(connection);
        connection.Tell(new ConnectionActor.TextFrame("[1,2]"));
        var error = await ReadClientFrame();
        Assert.Equal("bad_frame", error.GetProperty("code").GetString());
        // A repeat of the attach may come (its 200 ms retry fires on a busy machine); the frame may not.
        _sessions.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m as Attach);
        Assert.False(_sessions.HasMessages, "the bad frame went to the session");
    }

    [Fact]
    public async Task Past_the_hold_limit_held_frames_are_answered_unavailable()
    {
        var connection = StartConnection();
        await ReadClientFrame();
        AttachedFresh(connection);
        connection.Tell(Text(new { type = "say", text = "nobody home" }));
        var error = await ReadClientFrame();
        Assert.Equal("unavailable", error.GetProperty("code").GetString());
        Assert.Equal("say", error.GetProperty("ref").GetString());
    }

    [Fact]
    public void The_inbound_stream_is_paused_while_the_held_frames_are_at_their_limit()
    {
        var connection = StartConnection();
        AttachedFresh(connection);
        Thread.Sleep(600); // no answer since: the backend is away, so frames are held, not refused
        var inbound = CreateTestProbe();
        for (var i = 0; i < Settings.MaxHeldFrames + 1; i++)
            connection.Tell(Text(new { type = "say", text = $"m{i}" }), inbound);
        // One in flight, three held: the fourth read is not acknowledged, so the stream stops pulling.
        inbound.ReceiveN(Settings.MaxHeldFrames);
        inbound.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        var inFlight = _sessions.FishForMessage<ClientFrame>(_ => true);
        connection.Tell(new FrontendCommands.Acknowledged(inFlight.SessionId, inFlight.ConnectionId, inFlight.SeqNo));
        inbound.ExpectMsg<ConnectionActor.InboundAck>();
    }

    [Fact]
    public async Task While_the_backend_answers_a_client_too_far_ahead_of_it_is_answered_rate_limited()
    {
        var connection = StartConnection();
        await ReadClientFrame();
        AttachedFresh(connection);
        // Just acknowledged: the backend answers. One in flight and two queued (the busy limit); the fourth is refused.
        for (var i = 0; i < 4; i++) connection.Tell(Text(new { type = "say", text = $"m{i}", id = $"c-{i}" }));
        var error = await ReadClientFrame();
        Assert.Equal("rate_limited", error.GetProperty("code").GetString());
        Assert.Equal("say", error.GetProperty("ref").GetString());
        Assert.Equal("c-3", error.GetProperty("id").GetString()); // which one to send again
        var sent = _sessions.FishForMessage<ClientFrame>(_ => true);
        Assert.Contains("m0", sent.Payload);
    }

    [Fact]
    public void A_client_that_waited_out_a_backend_stall_is_not_refused_while_its_backlog_drains()
    {
        var connection = StartConnection();
        AttachedFresh(connection);
        connection.Tell(Text(new { type = "say", text = "m0" }));
        var inFlight = _sessions.FishForMessage<ClientFrame>(_ => true);
        Thread.Sleep(600); // the backend keeps m0 waiting: the client's next frames are held behind it
        for (var i = 1; i <= 3; i++) connection.Tell(Text(new { type = "say", text = $"m{i}" }));

        // The backend answers again, promptly: the backlog drains, and a frame sent meanwhile joins it.
        connection.Tell(new FrontendCommands.Acknowledged(inFlight.SessionId, inFlight.ConnectionId, inFlight.SeqNo));
        connection.Tell(Text(new { type = "say", text = "m4" }));
        for (var i = 1; i <= 4; i++)
        {
            var next = _sessions.FishForMessage<ClientFrame>(f => f.SeqNo > inFlight.SeqNo);
            Assert.Contains($"m{i}", next.Payload);
            connection.Tell(new FrontendCommands.Acknowledged(next.SessionId, next.ConnectionId, next.SeqNo));
            inFlight = next;
        }
    }

    [Fact]
    public void While_no_backend_answers_frames_are_held_not_refused()
    {
        var connection = StartConnection();
        AttachedFresh(connection);
        Thread.Sleep(600); // no answer since: the backend is away, so frames wait for it
        var inbound = CreateTestProbe();
        for (var i = 0; i < Settings.MaxHeldFrames; i++)
            connection.Tell(Text(new { type = "say", text = $"m{i}" }), inbound);
        inbound.ReceiveN(Settings.MaxHeldFrames);
        var inFlight = _sessions.FishForMessage<ClientFrame>(_ => true);
        for (var i = 1; i < Settings.MaxHeldFrames; i++)
        {
            connection.Tell(new FrontendCommands.Acknowledged(inFlight.SessionId, inFlight.ConnectionId, inFlight.SeqNo));
            var next = _sessions.FishForMessage<ClientFrame>(f => f.SeqNo > inFlight.SeqNo);
            Assert.Contains($"m{i}", next.Payload);
            inFlight = next;
        }
    }

    [Fact]
    public async Task A_client_that_closes_detaches_its_session_after_what_it_sent()
    {
        var connection = StartConnection();
        await ReadClientFrame();
        var attach = AttachedFresh(connection);
        var watcher = CreateTestProbe();
        watcher.Watch(connection);
        connection.Tell(Text(new { type = "say", text = "last words" }));
        connection.Tell(ConnectionActor.InboundCompleted.Instance);

        var frame = _sessions.ExpectMsg<ClientFrame>();
        connection.Tell(new FrontendCommands.Acknowledged(attach.SessionId, attach.ConnectionId, frame.SeqNo));
        var detach = _sessions.FishForMessage<Detach>(_ => true);
        connection.Tell(new FrontendCommands.Acknowledged(attach.SessionId, attach.ConnectionId, detach.SeqNo));
        watcher.ExpectTerminated(connection);
    }

    [Fact]
    public async Task A_refused_resume_starts_a_fresh_session()
    {
        var connection = StartConnection(resume: "oldsession.secret");
        var resume = _sessions.ExpectMsg<Attach>();
        Assert.Equal("oldsession", resume.SessionId);
        Assert.Equal("secret", resume.ResumeSecret);
        connection.Tell(new FrontendCommands.ResumeRefused(resume.SessionId, resume.ConnectionId, resume.SeqNo));

        var welcome = await ReadClientFrame();
        Assert.False(welcome.GetProperty("resumed").GetBoolean());
        Assert.NotEqual("oldsession", welcome.GetProperty("session").GetString());
        var fresh = _sessions.FishForMessage<Attach>(a => a.NewTokenHash is not null);
        Assert.Equal(welcome.GetProperty("session").GetString(), fresh.SessionId);
    }

    [Fact]
    public async Task An_accepted_resume_welcomes_with_the_same_session()
    {
        var connection = StartConnection(resume: "abc.secret");
        var resume = _sessions.ExpectMsg<Attach>();
        connection.Tell(new FrontendCommands.Acknowledged(resume.SessionId, resume.ConnectionId, resume.SeqNo));
        var welcome = await ReadClientFrame();
        Assert.True(welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal("abc", welcome.GetProperty("session").GetString());
        Assert.Equal("abc.secret", welcome.GetProperty("resume").GetString());
    }

    [Fact]
    public async Task A_client_too_slow_for_its_outbound_queue_is_closed_with_1013()
    {
        StartConnection();
        var register = _fanout.ExpectMsg<FanoutActor.Register>();
        var chunk = Encoding.UTF8.GetBytes($"{{\"type\":\"message\",\"text\":\"{new string('x', 32_000)}\"}}");
        // Far more than the socket buffers and the 8-frame queue hold while the client reads slowly.
        for (var i = 0; i < 2000; i++) register.Writer.TryWrite(chunk);

        var buffer = new byte[64_000];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        WebSocketReceiveResult result;
        do
        {
            await Task.Delay(1, timeout.Token);
            result = await _client.ReceiveAsync(buffer, timeout.Token);
        } while (result.MessageType != WebSocketMessageType.Close);
        Assert.Equal(1013, (int)result.CloseStatus!);
    }
}
