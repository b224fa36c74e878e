using System.Text.Json;
using Akka.Actor;
using Akka.Persistence;
using Akka.TestKit;
using SocketStarter.Gateway.Backend.Topics;
using SocketStarter.Samples.Chat;
using SocketStarter.Messages;

namespace SocketStarter.Tests;

/// <summary>A topic entity, with the chat's frames (a room is a topic).</summary>
public sealed class TopicActorSpec() : Akka.TestKit.Xunit2.TestKit(GatedJournal.Config.WithFallback(TestConfig.Persistent))
{
    private readonly string _roomId = TopicIds.Of(ChatApplication.Name, $"room{Guid.NewGuid():N}"[..20]);
    private long _opId;

    private string PersistenceId => $"topic-{_roomId}";

    private TopicCommands.Publish Publish(string sessionId, string text, string envelopeKey, string? clientId = null) =>
        new(_roomId, sessionId, ++_opId, ChatFrames.MessagePayload(sessionId, text, clientId), clientId, envelopeKey);

    /// <summary>Holds the room's journal writes while <paramref name="send"/> runs, from the moment the first of them
    /// reaches the journal: everything sent meanwhile queues up behind a write in progress, as behind a slow commit.</summary>
    private void WhileAWriteIsInProgress(IActorRef room, TopicCommands.Publish first, Action send)
    {
        GatedJournal.Hold(PersistenceId);
        var writes = GatedJournal.WritesOf(PersistenceId);
        room.Tell(first, TestActor);
        AwaitCondition(() => GatedJournal.WritesOf(PersistenceId) == writes + 1);
        send();
        GatedJournal.Release(PersistenceId);
    }

    /// <summary>For the tests of a full window (and of a frontend gone, which must not need the timeout): unconfirmed
    /// batches stop counting after the delivery timeout, and under CI's load the 2 s default ran out before such a test
    /// had asked for the one too many (CI of 261ec61).</summary>
    private static readonly TimeSpan WindowNeverExpires = TimeSpan.FromMinutes(1);

    private IActorRef StartRoom(TimeSpan? deliveryTimeout = null) =>
        Sys.ActorOf(TopicActor.Props(_roomId, new ChatFrames(), deliveryTimeout));

    private JsonElement Join(IActorRef room, string sessionId, string name, TestProbe frontend, long? since = null)
    {
        room.Tell(new TopicCommands.Subscribe(_roomId, sessionId, ++_opId, name, frontend, since), TestActor);
        var subscribe = frontend.FishForMessage<FrontendCommands.Subscribe>(s => s.SessionId == sessionId);
        ExpectMsg<TopicReplies.Done>(d => d.OpId == _opId);
        return JsonDocument.Parse(subscribe.Frame!).RootElement;
    }

    /// <summary>Stops the room, starts it again (it recovers from its journal) and joins <paramref name="sessionId"/>
    /// with <paramref name="since"/>: the revived room and the seqs of the history it answered with.</summary>
    private (IActorRef Revived, List<long> History) RestartAndJoin(IActorRef room, string sessionId, TestProbe frontend, long since)
    {
        Watch(room);
        Sys.Stop(room);
        ExpectTerminated(room);
        var revived = StartRoom();
        var joined = Join(revived, sessionId, "bob", frontend, since);
        return (revived, joined.GetProperty("history").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()).ToList());
    }

    private void Post(IActorRef room, string sessionId, string text, string envelopeKey, string? clientId = null)
    {
        room.Tell(Publish(sessionId, text, envelopeKey, clientId), TestActor);
        ExpectMsg<TopicReplies.Done>(d => d.OpId == _opId);
    }

    [Fact]
    public void Joining_answers_with_members_and_history_and_tells_the_others()
    {
        var room = StartRoom();
        var frontend = CreateTestProbe();
        Join(room, "s1", "alice", frontend);
        var joined = Join(room, "s2", "bob", frontend);
        Assert.Equal(["alice", "bob"], joined.GetProperty("members").EnumerateArray().Select(m => m.GetString()));
        var presence = frontend.ExpectMsg<FrontendCommands.TopicFrame>();
        Assert.Equal("s2", presence.ExceptSessionId);
        Assert.Contains("\"joined\":\"bob\"", presence.Frame);
    }

    [Fact]
    public void A_message_goes_once_to_each_frontend_node_not_once_per_member()
    {
        var room = StartRoom();
        var (frontendA, frontendB) = (CreateTestProbe(), CreateTestProbe());
        Join(room, "s1", "alice", frontendA);
        Join(room, "s2", "bob", frontendA);
        Join(room, "s3", "carol", frontendB);
        frontendA.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);
        frontendB.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);

        Post(room, "s1", "hello", "c1:1");
        Assert.Equal(1, frontendA.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Single().Seq);
        Assert.Equal(1, frontendB.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Single().Seq);
        frontendA.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Retried_posts_and_repeated_client_ids_are_posted_once()
    {
        var room = StartRoom();
        var frontend = CreateTestProbe();
        Join(room, "s1", "alice", frontend);
        Post(room, "s1", "one", "c1:5", clientId: "m-1");
        Assert.Equal(1, frontend.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Single().Seq);

        Post(room, "s1", "one", "c1:5", clientId: "m-1");
        Post(room, "s1", "one again", "c1:6", clientId: "m-1");
        frontend.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        Post(room, "s1", "two", "c1:7");
        Assert.Equal(2, frontend.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Single().Seq);
    }

    [Fact]
    public void Sequence_and_history_survive_a_restart_and_since_returns_what_was_missed()
    {
        var room = StartRoom();
        var frontend = CreateTestProbe();
        Join(room, "s1", "alice", frontend);
        for (var i = 1; i <= 3; i++) Post(room, "s1", $"m{i}", $"c1:{i}");

        var (revived, history) = RestartAndJoin(room, "s2", CreateTestProbe(), since: 1);
        Assert.Equal([2L, 3L], history);
        frontend.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);
        Post(revived, "s1", "m4", "c1:4");
        Assert.Equal(4, frontend.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Single().Seq);
    }

    [Fact]
    public void A_room_restarted_after_a_snapshot_keeps_its_sequence_history_and_the_keys_of_earlier_posts()
    {
        var room = StartRoom();
        var frontend = CreateTestProbe();
        // The member's frontend confirms every batch, as a real one does once its sockets have it.
        frontend.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is FrontendCommands.TopicBatch batch) sender.Tell(new TopicCommands.Delivered(_roomId, batch.Frames[^1].Seq));
            return AutoPilot.KeepRunning;
        }));
        Join(room, "s1", "alice", frontend);
        for (var i = 1; i <= 510; i++) Post(room, "s1", $"m{i}", $"c1:{i}", clientId: $"m-{i}");
        var snapshots = Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);
        AwaitAssert(() =>
        {
            snapshots.Tell(new LoadSnapshot($"topic-{_roomId}", SnapshotSelectionCriteria.Latest, long.MaxValue), TestActor);
            Assert.True(ExpectMsg<LoadSnapshotResult>().Snapshot?.Metadata.SequenceNr >= 500);
        });
        var late = CreateTestProbe();
        var (revived, history) = RestartAndJoin(room, "s2", late, since: 508);
        Assert.Equal([509L, 510L], history);
        late.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);
        // m-450 was posted before the snapshot (its key comes back with it, not with the events replayed after it):
        // a retry of it is not posted again.
        Post(revived, "s1", "m450", "c1:511", clientId: "m-450");
        Post(revived, "s1", "m511", "c1:512", clientId: "m-511");
        var next = late.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Single();
        Assert.Equal(511, next.Seq);
        Assert.Contains("m511", next.Frame);
    }

    [Fact]
    public void A_frontend_a_window_of_batches_behind_holds_new_posts_until_it_confirms()
    {
        var room = StartRoom(WindowNeverExpires);
        var frontend = CreateTestProbe();
        Join(room, "s1", "alice", frontend);
        for (var i = 1; i <= TopicActor.DeliveryWindow; i++) Post(room, "s1", $"m{i}", $"c1:{i}");

        room.Tell(new TopicCommands.Publish(_roomId, "s1", ++_opId, ChatFrames.MessagePayload("alice", "one too many", null), null, "c1:99"), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        room.Tell(new TopicCommands.Delivered(_roomId, TopicActor.DeliveryWindow), frontend);
        ExpectMsg<TopicReplies.Done>(d => d.OpId == _opId);
        var delivered = frontend.FishForMessage<FrontendCommands.TopicBatch>(m => m.Frames[^1].Seq == TopicActor.DeliveryWindow + 1);
        Assert.Contains("one too many", delivered.Frames.Single().Frame);
    }

    [Fact]
    public void Catch_ups_to_a_frontend_a_window_behind_wait_until_it_confirms()
    {
        var room = StartRoom(WindowNeverExpires);
        var (poster, rejoining) = (CreateTestProbe(), CreateTestProbe());
        Join(room, "s0", "alice", poster);
        Post(room, "s0", "while you were away", "c0:1");

        // Clients of one frontend rejoin at once with `since`: each catch-up counts in that frontend's window.
        for (var i = 1; i <= TopicActor.DeliveryWindow; i++)
        {
            room.Tell(new TopicCommands.Subscribe(_roomId, $"s{i}", ++_opId, $"user{i}", rejoining, Since: 0), TestActor);
            var caughtUp = rejoining.FishForMessage<FrontendCommands.Subscribe>(s => s.SessionId == $"s{i}");
            Assert.Single(JsonDocument.Parse(caughtUp.Frame!).RootElement.GetProperty("history").EnumerateArray());
            ExpectMsg<TopicReplies.Done>(d => d.OpId == _opId);
        }
        rejoining.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);
        room.Tell(new TopicCommands.Subscribe(_roomId, "s9", ++_opId, "late", rejoining, Since: 0), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        rejoining.ExpectNoMsg(TimeSpan.Zero);

        // Its members have what it was sent: the next catch-up goes out, and it asks to be confirmed in turn.
        room.Tell(new TopicCommands.Delivered(_roomId, 1), rejoining);
        var subscribe = rejoining.FishForMessage<FrontendCommands.Subscribe>(s => s.SessionId == "s9");
        Assert.Equal(1, subscribe.ConfirmSeq);
        ExpectMsg<TopicReplies.Done>(d => d.OpId == _opId);
    }

    [Fact]
    public void A_join_retried_before_its_answer_arrived_sends_the_catch_up_once()
    {
        var room = StartRoom();
        var frontend = CreateTestProbe();
        Join(room, "s1", "alice", frontend);
        Post(room, "s1", "hello", "c1:1");
        frontend.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);

        // The session resends the same step (same op id) until it is answered.
        var join = new TopicCommands.Subscribe(_roomId, "s2", ++_opId, "bob", frontend, Since: 0);
        room.Tell(join, TestActor);
        room.Tell(join, TestActor);
        ExpectMsg<TopicReplies.Done>(d => d.OpId == join.OpId);
        ExpectMsg<TopicReplies.Done>(d => d.OpId == join.OpId);
        Assert.Single(frontend.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m).OfType<FrontendCommands.Subscribe>());
    }

    [Fact]
    public void A_frontend_that_is_gone_holds_nothing_back()
    {
        var room = StartRoom(WindowNeverExpires);
        var (gone, serving) = (CreateTestProbe(), CreateTestProbe());
        Join(room, "s1", "alice", gone);
        Join(room, "s2", "bob", serving);
        for (var i = 1; i <= TopicActor.DeliveryWindow; i++) Post(room, "s2", $"m{i}", $"c2:{i}");
        room.Tell(new TopicCommands.Delivered(_roomId, TopicActor.DeliveryWindow), serving);

        // Its node was downed: the room does not wait for its confirmations (the timeout here never runs out).
        Watch(gone.Ref);
        Sys.Stop(gone.Ref);
        ExpectTerminated(gone.Ref);
        room.Tell(new TopicCommands.Publish(_roomId, "s2", ++_opId, ChatFrames.MessagePayload("bob", "after", null), null, "c2:99"), TestActor);
        ExpectMsg<TopicReplies.Done>(d => d.OpId == _opId, TimeSpan.FromSeconds(5));
        Assert.Contains("after", serving.FishForMessage<FrontendCommands.TopicBatch>(m => m.Frames[^1].Seq == TopicActor.DeliveryWindow + 1)
            .Frames.Single().Frame);
    }

    [Fact]
    public void Posts_arriving_while_a_batch_is_written_are_delivered_in_seq_order_each_once()
    {
        var room = StartRoom();
        var frontend = CreateTestProbe();
        Join(room, "s1", "alice", frontend);
        frontend.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);
        var firstOp = _opId + 1;
        for (var i = 1; i <= 40; i++)
        {
            room.Tell(new TopicCommands.Publish(_roomId, "s1", ++_opId, ChatFrames.MessagePayload("alice", $"m{i}", null), null, $"c1:{i}"), TestActor);
            // Every post sent twice, as a retry would: posted once.
            room.Tell(new TopicCommands.Publish(_roomId, "s1", _opId, ChatFrames.MessagePayload("alice", $"m{i}", null), null, $"c1:{i}"), TestActor);
        }
        var seqs = new List<long>();
        while (seqs.Count < 40)
        {
            var batch = frontend.ExpectMsg<FrontendCommands.TopicBatch>();
            seqs.AddRange(batch.Frames.Select(f => f.Seq));
            room.Tell(new TopicCommands.Delivered(_roomId, batch.Frames[^1].Seq), frontend);
        }
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), seqs);
        var answered = ReceiveN(80).Cast<TopicReplies.Done>().Select(d => d.OpId).Distinct().Order();
        Assert.Equal(Enumerable.Range(0, 40).Select(i => firstOp + i), answered);
        frontend.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Leaving_answers_left_and_tells_the_others()
    {
        var room = StartRoom();
        var frontend = CreateTestProbe();
        Join(room, "s1", "alice", frontend);
        Join(room, "s2", "bob", frontend);
        frontend.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);

        room.Tell(new TopicCommands.Unsubscribe(_roomId, "s2", ++_opId, Expired: false), TestActor);
        var unsubscribe = frontend.ExpectMsg<FrontendCommands.Unsubscribe>();
        Assert.Contains("\"type\":\"left\"", unsubscribe.Frame);
        Assert.Contains("\"left\":\"bob\"", frontend.ExpectMsg<FrontendCommands.TopicFrame>().Frame);
        ExpectMsg<TopicReplies.Done>();
    }

    [Fact]
    public void A_member_joining_between_posts_gets_the_earlier_ones_in_its_catch_up_and_the_later_ones_delivered()
    {
        var room = StartRoom();
        var (frontendA, frontendB) = (CreateTestProbe(), CreateTestProbe());
        Join(room, "s1", "alice", frontendA);
        Post(room, "s1", "m1", "c1:1");

        // Sent back to back, while m1's batch may still be written: the join falls between m2 and m3 all the same.
        room.Tell(new TopicCommands.Publish(_roomId, "s1", ++_opId, ChatFrames.MessagePayload("alice", "m2", null), null, "c1:2"), TestActor);
        room.Tell(new TopicCommands.Subscribe(_roomId, "s2", ++_opId, "bob", frontendB, Since: 0), TestActor);
        room.Tell(new TopicCommands.Publish(_roomId, "s1", ++_opId, ChatFrames.MessagePayload("alice", "m3", null), null, "c1:3"), TestActor);
        ReceiveN(3);

        var subscribed = JsonDocument.Parse(frontendB.ExpectMsg<FrontendCommands.Subscribe>().Frame!).RootElement;
        Assert.Equal([1L, 2L], subscribed.GetProperty("history").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));
        Assert.Equal([3L], frontendB.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Select(f => f.Seq));
        var deliveredToA = frontendA.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m).OfType<FrontendCommands.TopicBatch>();
        Assert.Equal([1L, 2L, 3L], deliveredToA.SelectMany(b => b.Frames).Select(f => f.Seq));
    }

    [Fact]
    public void A_member_leaving_between_posts_gets_the_earlier_ones_and_not_the_later_ones()
    {
        var room = StartRoom();
        var (frontendA, frontendB) = (CreateTestProbe(), CreateTestProbe());
        Join(room, "s1", "alice", frontendA);
        Join(room, "s2", "bob", frontendB);
        Post(room, "s1", "m1", "c1:1");
        frontendB.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);

        room.Tell(new TopicCommands.Publish(_roomId, "s1", ++_opId, ChatFrames.MessagePayload("alice", "m2", null), null, "c1:2"), TestActor);
        room.Tell(new TopicCommands.Unsubscribe(_roomId, "s2", ++_opId, Expired: false), TestActor);
        room.Tell(new TopicCommands.Publish(_roomId, "s1", ++_opId, ChatFrames.MessagePayload("alice", "m3", null), null, "c1:3"), TestActor);
        ReceiveN(3);

        Assert.Equal([2L], frontendB.ExpectMsg<FrontendCommands.TopicBatch>().Frames.Select(f => f.Seq));
        Assert.Equal("s2", frontendB.ExpectMsg<FrontendCommands.Unsubscribe>().SessionId);
        frontendB.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Members_leaving_during_a_write_are_written_together_and_the_post_behind_them_waits_for_that_one_write()
    {
        var room = StartRoom();
        var (staying, leaving) = (CreateTestProbe(), CreateTestProbe());
        Join(room, "s0", "alice", staying);
        for (var i = 1; i <= 20; i++) Join(room, $"s{i}", $"user{i}", leaving);
        staying.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);
        leaving.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m);

        var writesBefore = GatedJournal.WritesOf(PersistenceId);
        WhileAWriteIsInProgress(room, Publish("s0", "m1", "c0:1"), () =>
        {
            for (var i = 1; i <= 20; i++) room.Tell(new TopicCommands.Unsubscribe(_roomId, $"s{i}", ++_opId, Expired: true), TestActor);
            room.Tell(Publish("s0", "m2", "c0:2"), TestActor);
        });
        ReceiveN(22);
        // One write for m1, one for the twenty leaves and m2 (one each, m2 waited for twenty-one writes).
        Assert.Equal(writesBefore + 2, GatedJournal.WritesOf(PersistenceId));

        var toLeaving = leaving.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m);
        Assert.Equal([1L], toLeaving.OfType<FrontendCommands.TopicBatch>().SelectMany(b => b.Frames).Select(f => f.Seq));
        Assert.Equal(20, toLeaving.OfType<FrontendCommands.Unsubscribe>().Count());
        var toStaying = staying.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m).ToList();
        var batches = toStaying.OfType<FrontendCommands.TopicBatch>().ToList();
        Assert.Equal([1L, 2L], batches.SelectMany(b => b.Frames).Select(f => f.Seq));
        var lastLeft = toStaying.FindLastIndex(m => m is FrontendCommands.TopicFrame f && f.Frame.Contains("\"left\":\"user20\""));
        Assert.True(lastLeft > toStaying.IndexOf(batches[0]) && lastLeft < toStaying.IndexOf(batches[1]),
            "the others hear of the leaves between the post before them and the post after them");
    }

    [Fact]
    public void Catch_ups_decided_in_one_batch_still_count_in_their_frontends_window()
    {
        var room = StartRoom(WindowNeverExpires);
        var (poster, rejoining) = (CreateTestProbe(), CreateTestProbe());
        Join(room, "s0", "alice", poster);
        Post(room, "s0", "while you were away", "c0:1");

        WhileAWriteIsInProgress(room, Publish("s0", "m2", "c0:2"), () =>
        {
            for (var i = 1; i <= TopicActor.DeliveryWindow + 1; i++)
                room.Tell(new TopicCommands.Subscribe(_roomId, $"s{i}", ++_opId, $"user{i}", rejoining, Since: 0), TestActor);
        });
        var caughtUp = rejoining.ReceiveWhile(TimeSpan.FromMilliseconds(500), m => m).OfType<FrontendCommands.Subscribe>().ToList();
        Assert.Equal(TopicActor.DeliveryWindow, caughtUp.Count);

        room.Tell(new TopicCommands.Delivered(_roomId, 2), rejoining);
        Assert.Equal($"s{TopicActor.DeliveryWindow + 1}", rejoining.FishForMessage<FrontendCommands.Subscribe>(_ => true).SessionId);
    }
}
