using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Akka.Serialization;
using SocketStarter.Messages;
using SocketStarter.Samples.Chat;
using SocketStarter.Samples.Poll;

namespace SocketStarter.Tests;

/// <summary>
/// Every persisted event as the journal holds it, written by the serializers on 2026-12-02 (the gateway's topic and
/// session events replaced the chat's room events that day; journals written before are not read). An event that can no
/// longer be read back field for field (a field renamed, retyped or dropped) fails here instead of in a journal.
/// </summary>
public sealed class StoredEventSamplesSpec() : Akka.TestKit.Xunit2.TestKit(TestConfig.Persistent)
{
    [Theory]
    [InlineData("session.started.v1", """{"tokenHash":"HASH","application":"chat"}""")]
    [InlineData("session.attached.v1", """{"connectionId":"c1","frontend":"akka://test/user/frontend"}""")]
    [InlineData("session.detached.v1", """{"connectionId":"c1","at":"2026-11-28T10:15:00Z"}""")]
    [InlineData("session.presence-set.v1", """{"presence":"alice"}""")]
    [InlineData("session.subscribed.v1", """{"topicId":"lobby"}""")]
    [InlineData("session.unsubscribed.v1", """{"topicId":"lobby"}""")]
    [InlineData("session.ended.v1", """{}""")]
    [InlineData("topic.member-joined.v1", """{"sessionId":"s1","presence":"alice","frontend":"akka://test/user/frontend"}""")]
    [InlineData("topic.member-left.v1", """{"sessionId":"s1"}""")]
    [InlineData("topic.member-rebound.v1", """{"sessionId":"s1","frontend":"akka://test/user/frontend"}""")]
    [InlineData("topic.presence-changed.v1", """{"sessionId":"s1","presence":"alicia"}""")]
    [InlineData("topic.published.v1", """{"message":{"seq":42,"payload":"{\u0022from\u0022:\u0022alice\u0022,\u0022text\u0022:\u0022h\u00E9llo\u0022}","dedupeId":"c-17","timestamp":"2026-12-02T10:15:00Z"},"sessionId":"s1","envelopeKey":"c1:9"}""")]
    // Written from 2026-12-06 on: only JSON's own escapes inside the payload (before, every quote was \u0022).
    [InlineData("topic.published.v1", """{"message":{"seq":42,"payload":"{\"from\":\"alice\",\"text\":\"héllo\"}","dedupeId":"c-17","timestamp":"2026-12-06T10:15:00Z"},"sessionId":"s1","envelopeKey":"c1:9"}""")]
    [InlineData("topic.snapshot.v1", """{"lastSeq":42,"history":[{"seq":42,"payload":"{}","dedupeId":"c-17","timestamp":"2026-12-02T10:15:00Z"}],"members":[{"sessionId":"s1","presence":"alice","frontend":"akka://test/user/frontend"}],"recentKeys":[{"sessionId":"s1","keys":["c1:9","id:c-17"]}]}""")]
    [InlineData("name.claimed.v1", """{"sessionId":"s1"}""")]
    [InlineData("name.freed.v1", """{"sessionId":"s1"}""")]
    [InlineData("poll.created.v1", """{"question":"Where?","options":["pizza","sushi"],"sessionId":"s1","envelopeKey":"c1:3"}""")]
    [InlineData("poll.vote-cast.v1", """{"sessionId":"s1","option":1,"envelopeKey":"c1:4"}""")]
    public void A_stored_event_reads_back_whole(string manifest, string stored)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(TestConfig.SerializerOf(manifest).Marker);
        var read = serializer.FromBinary(Encoding.UTF8.GetBytes(stored), manifest);
        Assert.Equal(manifest, serializer.Manifest(read));
        // Written again, it is the same JSON (escapes aside): every stored field was read into the event (actor ids aside).
        var written = Regex.Replace(Encoding.UTF8.GetString(serializer.ToBinary(read)), "#-?\\d+", "");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(stored), JsonNode.Parse(written)), $"stored {stored}\nwritten {written}");
    }

    [Fact]
    public void Every_persisted_event_type_has_a_stored_sample()
    {
        var sampled = typeof(StoredEventSamplesSpec).GetMethod(nameof(A_stored_event_reads_back_whole))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(data => (string)data.GetData(null!).Single()[0]).ToHashSet();
        var manifests = TestConfig.Serializers.SelectMany(serializer => serializer.Contracts)
            .Where(contract => contract.Value.IsAssignableTo(typeof(ISessionEvent)) || contract.Value.IsAssignableTo(typeof(ITopicEvent))
                || contract.Value.IsAssignableTo(typeof(INameEvent)) || contract.Value.IsAssignableTo(typeof(IPollEvent)) || contract.Value == typeof(TopicEvents.TopicSnapshot))
            .Select(contract => contract.Key);
        Assert.Empty(manifests.Except(sampled));
    }
}
