using System.Text.Json;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;

namespace SocketStarter.Samples.Poll;

/// <summary>
/// A poll's topic carries its results after each change. Votes only add, so of two results the one with more votes
/// is the newer, whatever order they arrived in: a client keeps the highest <c>total</c>.
/// </summary>
public sealed class PollFrames : ITopicFrames
{
    public static string Payload(PollResults results) => ServerFrames.Write(w =>
    {
        w.WriteString("question", results.Question);
        w.WriteStartArray("options");
        foreach (var option in results.Options) w.WriteStringValue(option);
        w.WriteEndArray();
        w.WriteStartArray("votes");
        foreach (var votes in results.Votes) w.WriteNumberValue(votes);
        w.WriteEndArray();
        w.WriteNumber("total", results.Total);
    });

    public static string Created(string poll) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "created");
        w.WriteString("poll", poll);
    });

    public static string Voted(string poll, int option) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "voted");
        w.WriteString("poll", poll);
        w.WriteNumber("option", option);
    });

    public string Message(string topic, TopicMessage message) => ServerFrames.Write(w => WriteResults(w, topic, message));

    /// <summary>What a watcher starts from: the newest results in the catch-up (none before the poll is created).</summary>
    public string Subscribed(string topic, IEnumerable<string> presences, IEnumerable<TopicMessage> history, bool more) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "watching");
        w.WriteString("poll", topic);
        var newest = history.MaxBy(Total);
        if (newest is null)
            w.WriteNull("results");
        else
        {
            w.WriteStartObject("results");
            WriteResults(w, topic, newest);
            w.WriteEndObject();
        }
    });

    public string Unsubscribed(string topic) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "unwatched");
        w.WriteString("poll", topic);
    });

    /// <summary>Poll sessions show no presence, so the gateway sends none of these.</summary>
    public string Presence(string topic, string? joined, string? left) => Unsubscribed(topic);

    private static void WriteResults(Utf8JsonWriter w, string topic, TopicMessage message)
    {
        w.WriteString("type", "results");
        w.WriteString("poll", topic);
        w.WriteNumber("seq", message.Seq);
        ServerFrames.WriteFieldsOf(w, message.Payload);
    }

    private static int Total(TopicMessage message)
    {
        using var payload = JsonDocument.Parse(message.Payload);
        return payload.RootElement.GetProperty("total").GetInt32();
    }
}
