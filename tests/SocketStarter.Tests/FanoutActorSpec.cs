using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using SocketStarter.Gateway.Frontend.Connections;
using SocketStarter.Messages;

namespace SocketStarter.Tests;

public sealed class FanoutActorSpec() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING")
{
    [Fact]
    public async Task A_room_frame_reaches_each_local_member_once_in_seq_order()
    {
        var (fanout, outA, outB) = LobbyOfTwo(FanoutActor.Props(), joinedFrame: "{\"type\":\"joined\"}");
        Assert.Contains("joined", await outA.Next());

        fanout.Tell(new FrontendCommands.TopicFrame("lobby", 1, "{\"seq\":1}", null));
        fanout.Tell(new FrontendCommands.TopicFrame("lobby", 1, "{\"seq\":1}", null));
        fanout.Tell(new FrontendCommands.TopicFrame("lobby", 0, "{\"presence\":1}", "s2"));
        fanout.Tell(new FrontendCommands.TopicFrame("lobby", 2, "{\"seq\":2}", null));

        Assert.Equal("{\"seq\":1}", await outA.Next());
        Assert.Equal("{\"presence\":1}", await outA.Next());
        Assert.Equal("{\"seq\":2}", await outA.Next());
        Assert.Equal("{\"seq\":1}", await outB.Next());
        Assert.Equal("{\"seq\":2}", await outB.Next());
        await outA.ExpectNothing();
        await outB.ExpectNothing();
    }

    [Fact]
    public async Task A_resuming_connection_gets_the_session_frames_only_after_its_attach_is_acknowledged()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props());
        var (owner, resuming) = (new RecordingChannel(), new RecordingChannel());
        fanout.Tell(new FanoutActor.Register("s1", "c1", CreateTestProbe(), owner.Writer));
        fanout.Tell(new FanoutActor.Register("s1", "c2", CreateTestProbe(), resuming.Writer, Resuming: true));
        fanout.Tell(new FrontendCommands.ToSession("s1", "before"));
        Assert.Equal("before", await owner.Next());
        await resuming.ExpectNothing();

        // A refused token: the connection goes away and the owner keeps its frames.
        fanout.Tell(new FanoutActor.Unregister("s1", "c2"));
        fanout.Tell(new FrontendCommands.ToSession("s1", "still yours"));
        Assert.Equal("still yours", await owner.Next());

        // An accepted one: from its acknowledgement on, the new connection carries the session.
        fanout.Tell(new FanoutActor.Register("s1", "c3", CreateTestProbe(), resuming.Writer, Resuming: true));
        fanout.Tell(new FrontendCommands.Acknowledged("s1", "c3", 1));
        fanout.Tell(new FrontendCommands.ToSession("s1", "after"));
        Assert.Equal("after", await resuming.Next());
        await owner.ExpectNothing();
    }

    [Fact]
    public async Task A_room_batch_is_written_to_each_member_in_order_then_confirmed_to_the_room()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props());
        var member = new RecordingChannel();
        fanout.Tell(new FanoutActor.Register("s1", "c1", CreateTestProbe(), member.Writer));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s1", null));
        fanout.Tell(new FrontendCommands.TopicBatch("lobby",
            [new("lobby", 1, "{\"seq\":1}", null), new("lobby", 2, "{\"seq\":2}", null)]), TestActor);
        ExpectMsg<TopicCommands.Delivered>(d => d.TopicId == "lobby" && d.UpToSeq == 2);
        Assert.Equal("{\"seq\":1}", await member.Next());
        Assert.Equal("{\"seq\":2}", await member.Next());
    }

    [Fact]
    public async Task A_room_batch_goes_to_each_member_in_one_write_without_what_is_not_meant_for_it()
    {
        var (fanout, s1, s2) = LobbyOfTwo(FanoutActor.Props());
        fanout.Tell(new FrontendCommands.TopicBatch("lobby",
            [new("lobby", 1, "{\"seq\":1}", null), new("lobby", 0, "{\"presence\":1}", "s2"), new("lobby", 2, "{\"seq\":2}", null)]), TestActor);
        ExpectMsg<TopicCommands.Delivered>(d => d.UpToSeq == 2);

        Assert.Equal(["{\"seq\":1}", "{\"presence\":1}", "{\"seq\":2}"], await s1.NextWrite());
        Assert.Equal(["{\"seq\":1}", "{\"seq\":2}"], await s2.NextWrite());
    }

    [Fact]
    public async Task A_room_batch_is_confirmed_once_every_member_has_it()
    {
        // A grace far longer than the test: only the member's write can confirm the batch, however slow the machine.
        var (fanout, reader, stuck) = LobbyOfTwo(FanoutActor.Props(slowReaderGrace: TimeSpan.FromMinutes(5)));

        // The second member's socket takes nothing: the room hears nothing while its batch sits in that queue.
        var socketFull = stuck.Block();
        fanout.Tell(new FrontendCommands.TopicBatch("lobby", [new("lobby", 1, "{\"seq\":1}", null)]), TestActor);
        Assert.Equal("{\"seq\":1}", await reader.Next());
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        socketFull.SetResult();
        ExpectMsg<TopicCommands.Delivered>(d => d.UpToSeq == 1);
        Assert.Equal("{\"seq\":1}", await stuck.Next());
    }

    [Fact]
    public async Task A_member_that_never_reads_holds_its_room_back_by_the_grace_only()
    {
        var (fanout, reader, stuck) = LobbyOfTwo(FanoutActor.Props());

        stuck.Block();
        fanout.Tell(new FrontendCommands.TopicBatch("lobby", [new("lobby", 1, "{\"seq\":1}", null)]), TestActor);
        Assert.Equal("{\"seq\":1}", await reader.Next());
        ExpectMsg<TopicCommands.Delivered>(d => d.UpToSeq == 1, DeliveryReceipt.SlowReaderGrace * 10);
    }

    [Fact]
    public async Task A_catch_up_is_confirmed_to_its_room_once_the_member_has_it()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props(slowReaderGrace: TimeSpan.FromMinutes(5)));
        var member = new RecordingChannel();
        fanout.Tell(new FanoutActor.Register("s1", "c1", CreateTestProbe(), member.Writer));

        var socketFull = member.Block();
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s1", "{\"history\":[1,2,3]}", ConfirmSeq: 3), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        socketFull.SetResult();
        ExpectMsg<TopicCommands.Delivered>(d => d.TopicId == "lobby" && d.UpToSeq == 3);
        Assert.Equal("{\"history\":[1,2,3]}", await member.Next());
    }

    [Fact]
    public void A_catch_up_for_a_connection_that_is_gone_is_confirmed_at_once()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props(slowReaderGrace: TimeSpan.FromMinutes(5)));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "gone", "{\"history\":[1]}", ConfirmSeq: 1), TestActor);
        ExpectMsg<TopicCommands.Delivered>(d => d.TopicId == "lobby" && d.UpToSeq == 1);
    }

    [Fact]
    public void Acknowledgements_go_to_the_connection_that_sent_the_envelope()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props());
        var (oldConnection, newConnection) = (CreateTestProbe(), CreateTestProbe());
        fanout.Tell(new FanoutActor.Register("s1", "c1", oldConnection, new RecordingChannel().Writer));
        fanout.Tell(new FanoutActor.Register("s1", "c2", newConnection, new RecordingChannel().Writer));
        fanout.Tell(new FrontendCommands.Acknowledged("s1", "c1", 9));
        oldConnection.ExpectMsg<FrontendCommands.Acknowledged>(a => a.SeqNo == 9);
        newConnection.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        // A session's new incarnation reaches the connection as its sender, so the connection can answer it directly.
        var session = CreateTestProbe();
        fanout.Tell(new FrontendCommands.SessionReady("s1", "c2"), session);
        newConnection.ExpectMsg<FrontendCommands.SessionReady>();
        Assert.Equal(session.Ref, newConnection.LastSender);
    }

    [Fact]
    public async Task A_closed_connection_gets_no_more_room_frames()
    {
        var fanout = Sys.ActorOf(FanoutActor.Props());
        var outbound = new RecordingChannel();
        fanout.Tell(new FanoutActor.Register("s1", "c1", CreateTestProbe(), outbound.Writer));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s1", null));
        fanout.Tell(new FanoutActor.Unregister("s1", "c1"));
        fanout.Tell(new FrontendCommands.TopicFrame("lobby", 1, "{}", null));
        await outbound.ExpectNothing();
    }

    /// <summary>A fan-out with two sessions in "lobby", s1 (told <paramref name="joinedFrame"/> if given) and s2.</summary>
    private (IActorRef Fanout, RecordingChannel S1, RecordingChannel S2) LobbyOfTwo(Props props, string? joinedFrame = null)
    {
        var fanout = Sys.ActorOf(props);
        var (s1, s2) = (new RecordingChannel(), new RecordingChannel());
        fanout.Tell(new FanoutActor.Register("s1", "c1", CreateTestProbe(), s1.Writer));
        fanout.Tell(new FanoutActor.Register("s2", "c2", CreateTestProbe(), s2.Writer));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s1", joinedFrame));
        fanout.Tell(new FrontendCommands.Subscribe("lobby", "s2", null));
        return (fanout, s1, s2);
    }

    /// <summary>A client end that keeps what is written to it, behind a real <see cref="SocketWriter"/>.</summary>
    private sealed class RecordingChannel : IClientChannel
    {
        private readonly Channel<string> _written = Channel.CreateUnbounded<string>();
        private readonly Channel<string[]> _writes = Channel.CreateUnbounded<string[]>();
        private Task _socketFree = Task.CompletedTask;

        public RecordingChannel() => Writer = new SocketWriter(this, limit: 16);

        public SocketWriter Writer { get; }

        /// <summary>From now on writes wait, as on a socket whose client reads nothing, until the result is completed.</summary>
        public TaskCompletionSource Block()
        {
            var free = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _socketFree = free.Task;
            return free;
        }

        public async Task WriteAsync(ReadOnlyMemory<byte> utf8Frame) => await WriteAsync(new[] { utf8Frame });

        /// <summary>One write to the client: the frames <see cref="NextWrite"/> gives together.</summary>
        public async Task WriteAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> utf8Frames)
        {
            await _socketFree;
            var frames = utf8Frames.ToArray().Select(frame => Encoding.UTF8.GetString(frame.Span)).ToArray();
            foreach (var frame in frames) _written.Writer.TryWrite(frame);
            _writes.Writer.TryWrite(frames);
        }

        public async Task<string[]> NextWrite() => await _writes.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(3));

        public Task CloseAsync(WebSocketCloseStatus status, string reason) => Task.CompletedTask;

        public async Task<string> Next() => await _written.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(3));

        public async Task ExpectNothing()
        {
            await Task.Delay(200);
            Assert.False(_written.Reader.TryRead(out var frame), $"unexpected frame {frame}");
        }
    }
}
