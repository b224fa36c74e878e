using Akka.Actor;
using Akka.Serialization;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;

namespace SocketStarter.Tests;

public sealed class WireSerializerSpec() : Akka.TestKit.Xunit2.TestKit(TestConfig.Persistent)
{
    private IEnumerable<IWireMessage> Samples()
    {
        var frontend = CreateTestProbe().Ref;
        var message = new ChatMessage(42, "alice", "héllo <b>", "c-17", new DateTime(2026, 11, 28, 10, 15, 0, DateTimeKind.Utc));
        yield return StopEntity.Instance;
        yield return new SessionCommands.Attach("s1", "c1", 1, frontend, "HASH", null);
        yield return new SessionCommands.Attach("s1", "c2", 1, frontend, null, "secret");
        yield return new SessionCommands.ClientFrame("s1", "c1", 2, frontend, """{"type":"say"}""");
        yield return new SessionCommands.Detach("s1", "c1", 3, frontend);
        yield return new SessionEvents.Started("HASH");
        yield return new SessionEvents.Attached("c1", frontend);
        yield return new SessionEvents.Detached("c1", message.Timestamp);
        yield return new SessionEvents.NameSet("alice");
        yield return new SessionEvents.RoomJoined("lobby");
        yield return new SessionEvents.RoomLeft("lobby");
        yield return SessionEvents.Ended.Instance;
        yield return new FrontendCommands.Acknowledged("s1", "c1", 7);
        yield return new FrontendCommands.ResumeRefused("s1", "c1", 1);
        yield return new FrontendCommands.TakenOver("s1", "c1");
        yield return new FrontendCommands.ToSession("s1", """{"type":"registered"}""");
        yield return new FrontendCommands.RoomFrame("lobby", 42, """{"type":"message"}""", "s2");
        yield return new FrontendCommands.RoomMessages("lobby", [new FrontendCommands.RoomFrame("lobby", 42, """{"type":"message"}""", null)]);
        yield return new FrontendCommands.Subscribe("lobby", "s1", """{"type":"joined"}""");
        yield return new FrontendCommands.Unsubscribe("lobby", "s1", null);
        yield return new RoomCommands.Join("lobby", "s1", 5, "alice", frontend, 41);
        yield return new RoomCommands.Leave("lobby", "s1", 6, Expired: true);
        yield return new RoomCommands.Post("lobby", "s1", 7, "alice", "hi", "c-17", "c1:9");
        yield return new RoomCommands.Rebind("lobby", "s1", 8, frontend);
        yield return new RoomCommands.Rename("lobby", "s1", 9, "alicia");
        yield return new RoomCommands.Delivered("lobby", 42);
        yield return new RoomReplies.Done("lobby", 9);
        yield return message;
        yield return new RoomQueries.GetMemberCount("lobby");
        yield return new RoomQueries.MemberCount("lobby", 3);
        yield return new RoomEvents.MemberJoined("s1", "alice", frontend);
        yield return new RoomEvents.MemberLeft("s1");
        yield return new RoomEvents.MemberRebound("s1", frontend);
        yield return new RoomEvents.MemberRenamed("s1", "alicia");
        yield return new RoomEvents.MessagePosted(message, "s1", "c1:9");
        yield return new RoomEvents.RoomSnapshot(42, [message], [new RoomEvents.Member("s1", "alice", frontend)],
            [new RoomEvents.RecentPostKeys("s1", ["c1:9", "id:c-17"])]);
        yield return new NameCommands.Claim("alice", "s1", 1);
        yield return new NameCommands.Release("alice", "s1", 2);
        yield return new NameReplies.ClaimResult("alice", 1, Granted: true);
        yield return new NameReplies.Released("alice", 2);
        yield return new NameEvents.Claimed("s1");
        yield return new NameEvents.Freed("s1");
    }

    [Fact]
    public void Every_wire_contract_has_a_sample_here()
    {
        var sampled = Samples().Select(s => s.GetType()).ToHashSet();
        Assert.DoesNotContain(WireSerializer.Contracts.Values, type => !sampled.Contains(type));
        var wireTypes = typeof(IWireMessage).Assembly.GetTypes()
            .Where(t => typeof(IWireMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false });
        Assert.DoesNotContain(wireTypes, type => !WireSerializer.Contracts.Values.Contains(type));
    }

    [Fact]
    public void Every_wire_message_round_trips_through_its_string_manifest()
    {
        var serialization = Sys.Serialization;
        foreach (var sample in Samples())
        {
            var serializer = serialization.FindSerializerFor(sample);
            Assert.IsType<WireSerializer>(serializer);
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
    public void Actor_references_survive_the_trip()
    {
        var probe = CreateTestProbe();
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(StopEntity.Instance);
        var original = new FrontendCommands.Subscribe("lobby", "s1", null);
        var attach = new SessionCommands.Attach("s1", "c1", 1, probe.Ref, "h", null);
        var back = (SessionCommands.Attach)serializer.FromBinary(serializer.ToBinary(attach), serializer.Manifest(attach));
        back.Frontend.Tell(original);
        probe.ExpectMsg<FrontendCommands.Subscribe>(s => s.RoomId == "lobby");
    }

    [Fact]
    public void An_unknown_manifest_is_a_clear_error()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(StopEntity.Instance);
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "room.unknown.v9"));
        Assert.Contains("room.unknown.v9", error.Message);
    }
}
