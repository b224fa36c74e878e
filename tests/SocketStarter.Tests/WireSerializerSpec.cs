using Akka.Actor;
using Akka.Serialization;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;
using SocketStarter.Samples.Chat;
using SocketStarter.Samples.Poll;

namespace SocketStarter.Tests;

public sealed class WireSerializerSpec() : Akka.TestKit.Xunit2.TestKit(TestConfig.Persistent)
{
    private IEnumerable<object> Samples()
    {
        var frontend = CreateTestProbe().Ref;
        var message = new TopicMessage(42, """{"from":"alice","text":"héllo <b>"}""", "c-17", new DateTime(2026, 11, 28, 10, 15, 0, DateTimeKind.Utc));
        yield return StopEntity.Instance;
        yield return new SessionCommands.Attach("s1", "c1", 1, frontend, "HASH", null, "chat");
        yield return new SessionCommands.Attach("s1", "c2", 1, frontend, null, "secret", "chat");
        yield return new SessionCommands.ClientFrame("s1", "c1", 2, frontend, """{"type":"say"}""");
        yield return new SessionCommands.Detach("s1", "c1", 3, frontend);
        yield return new SessionEvents.Started("HASH", "chat");
        yield return new SessionEvents.Attached("c1", frontend);
        yield return new SessionEvents.Detached("c1", message.Timestamp);
        yield return new SessionEvents.PresenceSet("alice");
        yield return new SessionEvents.Subscribed("lobby");
        yield return new SessionEvents.Unsubscribed("lobby");
        yield return SessionEvents.Ended.Instance;
        yield return new FrontendCommands.Acknowledged("s1", "c1", 7);
        yield return new FrontendCommands.ResumeRefused("s1", "c1", 1);
        yield return new FrontendCommands.TakenOver("s1", "c1");
        yield return new FrontendCommands.SessionReady("s1", "c1");
        yield return new FrontendCommands.ToSession("s1", """{"type":"registered"}""");
        yield return new FrontendCommands.TopicFrame("lobby", 42, """{"type":"message"}""", "s2");
        yield return new FrontendCommands.TopicBatch("lobby", [new FrontendCommands.TopicFrame("lobby", 42, """{"type":"message"}""", null)]);
        yield return new FrontendCommands.Subscribe("lobby", "s1", """{"type":"joined"}""", ConfirmSeq: 7);
        yield return new FrontendCommands.Subscribe("lobby", "s1", null);
        yield return new FrontendCommands.Unsubscribe("lobby", "s1", null);
        yield return new TopicCommands.Subscribe("lobby", "s1", 5, "alice", frontend, 41);
        yield return new TopicCommands.Unsubscribe("lobby", "s1", 6, Expired: true);
        yield return new TopicCommands.Publish("lobby", "s1", 7, message.Payload, "c-17", "c1:9");
        yield return new TopicCommands.Rebind("lobby", "s1", 8, frontend);
        yield return new TopicCommands.SetPresence("lobby", "s1", 9, "alicia");
        yield return new TopicCommands.Delivered("lobby", 42);
        yield return new TopicReplies.Done("lobby", 9);
        yield return message;
        yield return new TopicQueries.GetMemberCount("lobby");
        yield return new TopicQueries.MemberCount("lobby", 3);
        yield return new TopicEvents.MemberJoined("s1", "alice", frontend);
        yield return new TopicEvents.MemberLeft("s1");
        yield return new TopicEvents.MemberRebound("s1", frontend);
        yield return new TopicEvents.PresenceChanged("s1", "alicia");
        yield return new TopicEvents.Published(message, "s1", "c1:9");
        yield return new TopicEvents.TopicSnapshot(42, [message], [new TopicEvents.Member("s1", "alice", frontend)],
            [new TopicEvents.RecentPublishKeys("s1", ["c1:9", "id:c-17"])]);
        yield return new NameCommands.Claim("alice", "s1", 1);
        yield return new NameCommands.Release("alice", "s1", 2);
        yield return new NameReplies.ClaimResult("alice", 1, Granted: true);
        yield return new NameReplies.Released("alice", 2);
        yield return new NameEvents.Claimed("s1");
        yield return new NameEvents.Freed("s1");
        var results = new PollResults("Where?", ["pizza", "sushi"], [2, 1]);
        yield return new PollCommands.Create("lunch", "s1", "c1:3", "Where?", ["pizza", "sushi"], 4);
        yield return new PollCommands.Vote("lunch", "s1", "c1:4", 1, 5);
        yield return new PollReplies.Answer("lunch", 5, PollOutcomes.Done, results);
        yield return new PollEvents.Created("Where?", ["pizza", "sushi"], "s1", "c1:3");
        yield return new PollEvents.VoteCast("s1", 1, "c1:4");
    }

    [Fact]
    public void Every_wire_contract_has_a_sample_here()
    {
        var sampled = Samples().Select(s => s.GetType()).ToHashSet();
        var contracts = TestConfig.Serializers.SelectMany(serializer => serializer.Contracts.Values).ToList();
        Assert.DoesNotContain(contracts, type => !sampled.Contains(type));
        var wireTypes = TestConfig.Serializers.SelectMany(serializer => serializer.Marker.Assembly.GetTypes()
            .Where(t => serializer.Marker.IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }));
        Assert.DoesNotContain(wireTypes, type => !contracts.Contains(type));
    }

    [Fact]
    public void Every_wire_message_round_trips_through_its_string_manifest()
    {
        var serialization = Sys.Serialization;
        foreach (var sample in Samples())
        {
            var serializer = serialization.FindSerializerFor(sample);
            Assert.IsType(TestConfig.SerializerOf(sample).Type, serializer);
            var manifest = Serialization.ManifestFor(serializer, sample);
            Assert.Matches(@"^[a-z-]+(\.[a-z-]+)?\.v\d+$", manifest);
            var bytes = serializer.ToBinary(sample);
            var back = serialization.Deserialize(bytes, serializer.Identifier, manifest);
            Assert.IsType(sample.GetType(), back);
            // Lists inside records compare by reference: compare what goes on the wire instead.
            Assert.Equal(bytes, serializer.ToBinary(back));
        }
    }

    [Fact]
    public void A_frame_inside_a_contract_costs_its_own_bytes_plus_its_quotes_escapes()
    {
        // A chat frame with quotes, markup and non-ASCII text, as the topics send a batch of them to every frontend.
        // (A character beyond the BMP, an emoji, is still written as two \u escapes: System.Text.Json always does that.)
        var frame = """{"type":"message","room":"lobby","seq":7,"from":"alice","text":"héllo <b>&</b> 'x' + ü","ts":1}""";
        var batch = new FrontendCommands.TopicBatch("lobby", [new FrontendCommands.TopicFrame("lobby", 7, frame, null)]);
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(batch);
        var bytes = serializer.ToBinary(batch);
        var back = (FrontendCommands.TopicBatch)serializer.FromBinary(bytes, serializer.Manifest(batch));
        Assert.Equal(frame, back.Frames.Single().Frame);
        // Each quote becomes \" (one byte more), nothing else is escaped (the default encoder wrote \u0022 and \uXXXX:
        // half as many bytes again for a chat frame, on every hop).
        var quotes = frame.Count(c => c == '"');
        var envelope = serializer.ToBinary(batch with { Frames = [new FrontendCommands.TopicFrame("lobby", 7, "", null)] }).Length;
        Assert.Equal(envelope + System.Text.Encoding.UTF8.GetByteCount(frame) + quotes, bytes.Length);
    }

    [Fact]
    public void Actor_references_survive_the_trip()
    {
        var probe = CreateTestProbe();
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(StopEntity.Instance);
        var original = new FrontendCommands.Subscribe("lobby", "s1", null);
        var attach = new SessionCommands.Attach("s1", "c1", 1, probe.Ref, "h", null, "chat");
        var back = (SessionCommands.Attach)serializer.FromBinary(serializer.ToBinary(attach), serializer.Manifest(attach));
        back.Frontend.Tell(original);
        probe.ExpectMsg<FrontendCommands.Subscribe>(s => s.TopicId == "lobby");
    }

    [Fact]
    public void An_unknown_manifest_is_a_clear_error()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(StopEntity.Instance);
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "room.unknown.v9"));
        Assert.Contains("room.unknown.v9", error.Message);
    }
}
