using System.Text;
using System.Text.RegularExpressions;
using Akka.Serialization;
using SocketStarter.Messages;

namespace SocketStarter.Tests;

/// <summary>
/// Every persisted event as the journal holds it, written by the serializer on 2026-11-28. An event that can no
/// longer be read back field for field (a field renamed, retyped or dropped) fails here instead of in a journal.
/// </summary>
public sealed class StoredEventSamplesSpec() : Akka.TestKit.Xunit2.TestKit(TestConfig.Persistent)
{
    [Theory]
    [InlineData("session.started.v1", """{"tokenHash":"HASH"}""")]
    [InlineData("session.attached.v1", """{"connectionId":"c1","frontend":"akka://test/user/frontend"}""")]
    [InlineData("session.detached.v1", """{"connectionId":"c1","at":"2026-11-28T10:15:00Z"}""")]
    [InlineData("session.name-set.v1", """{"name":"alice"}""")]
    [InlineData("session.room-joined.v1", """{"roomId":"lobby"}""")]
    [InlineData("session.room-left.v1", """{"roomId":"lobby"}""")]
    [InlineData("session.ended.v1", """{}""")]
    [InlineData("room.member-joined.v1", """{"sessionId":"s1","name":"alice","frontend":"akka://test/user/frontend"}""")]
    [InlineData("room.member-left.v1", """{"sessionId":"s1"}""")]
    [InlineData("room.member-rebound.v1", """{"sessionId":"s1","frontend":"akka://test/user/frontend"}""")]
    [InlineData("room.member-renamed.v1", """{"sessionId":"s1","name":"alicia"}""")]
    [InlineData("room.message-posted.v1", """{"message":{"seq":42,"from":"alice","text":"h\u00E9llo \u003Cb\u003E","clientMessageId":"c-17","timestamp":"2026-11-28T10:15:00Z"},"sessionId":"s1","envelopeKey":"c1:9"}""")]
    [InlineData("room.snapshot.v1", """{"lastSeq":42,"history":[{"seq":42,"from":"alice","text":"h\u00E9llo \u003Cb\u003E","clientMessageId":"c-17","timestamp":"2026-11-28T10:15:00Z"}],"members":[{"sessionId":"s1","name":"alice","frontend":"akka://test/user/frontend"}],"recentKeys":[{"sessionId":"s1","keys":["c1:9","id:c-17"]}]}""")]
    [InlineData("name.claimed.v1", """{"sessionId":"s1"}""")]
    [InlineData("name.freed.v1", """{"sessionId":"s1"}""")]
    public void A_stored_event_reads_back_whole(string manifest, string stored)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(SessionEvents.Ended.Instance);
        var read = serializer.FromBinary(Encoding.UTF8.GetBytes(stored), manifest);
        Assert.Equal(manifest, serializer.Manifest(read));
        // Written again, it is the same JSON: every stored field was read into the event (actor ids aside).
        Assert.Equal(stored, Regex.Replace(Encoding.UTF8.GetString(serializer.ToBinary(read)), "#-?\\d+", ""));
    }

    [Fact]
    public void Every_persisted_event_type_has_a_stored_sample()
    {
        var sampled = typeof(StoredEventSamplesSpec).GetMethod(nameof(A_stored_event_reads_back_whole))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(data => (string)data.GetData(null!).Single()[0]).ToHashSet();
        var manifests = SocketStarter.Messages.Serialization.WireSerializer.Contracts
            .Where(contract => contract.Value.IsAssignableTo(typeof(ISessionEvent)) || contract.Value.IsAssignableTo(typeof(IRoomEvent))
                || contract.Value.IsAssignableTo(typeof(INameEvent)) || contract.Value == typeof(RoomEvents.RoomSnapshot))
            .Select(contract => contract.Key);
        Assert.Empty(manifests.Except(sampled));
    }
}
