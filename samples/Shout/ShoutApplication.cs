using System.Text.Json;
using SocketStarter.Gateway.Backend;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;

namespace SocketStarter.Samples.Shout;

/// <summary>
/// The walkthrough of docs/application.md: a shout board. A client that sends <c>listen</c> gets the last shouts and
/// then every new one, in order; <c>shout</c> adds one. Everything else (sessions, resume, order, history, holding
/// the frames while the backend restarts) is the gateway's.
/// </summary>
public sealed class ShoutApplication : IGatewayApplication
{
    public const string Name = "shout";
    private const string Board = "board";

    public ITopicFrames Frames { get; } = new ShoutFrames();

    public Step Decide(SessionView session, string frame)
    {
        // The frontend lets through only JSON objects with a string "type".
        using var json = JsonDocument.Parse(frame);
        var root = json.RootElement;
        return root.GetProperty("type").GetString() switch
        {
            "listen" => new Step.Subscribe(Board, Since: null),
            "shout" when root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
                         && text.GetString() is { Length: >= 1 and <= 280 } shout =>
                new Step.Publish(Board, ServerFrames.Write(w => w.WriteString("text", shout)), DedupeId: null),
            "shout" => new Step.Error("invalid_text", "A shout is 1-280 characters.", "shout"),
            var type => new Step.Error(ErrorCodes.UnknownType, $"Unknown frame type '{type}'.", type),
        };
    }

    public Step Ended(SessionView session) => Step.None;

    /// <summary>For <c>AddGatewayBackend</c>: no entities of its own, no contracts of its own.</summary>
    public static GatewayApplication Registration() => new(Name, _ => new ShoutApplication());

    private sealed class ShoutFrames : ITopicFrames
    {
        public string Message(string topic, TopicMessage message) => ServerFrames.Write(w => WriteShout(w, message));

        public string Subscribed(string topic, IEnumerable<string> presences, IEnumerable<TopicMessage> history, bool more) =>
            ServerFrames.Write(w =>
            {
                w.WriteString("type", "listening");
                w.WriteStartArray("recent");
                foreach (var message in history)
                {
                    w.WriteStartObject();
                    WriteShout(w, message);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });

        public string Unsubscribed(string topic) => ServerFrames.Write(w => w.WriteString("type", "quiet"));

        /// <summary>Shout sessions show no presence, so the gateway sends none of these.</summary>
        public string Presence(string topic, string? joined, string? left) => Unsubscribed(topic);

        private static void WriteShout(Utf8JsonWriter w, TopicMessage message)
        {
            using var payload = JsonDocument.Parse(message.Payload);
            w.WriteString("type", "shout");
            w.WriteNumber("seq", message.Seq);
            w.WriteString("text", payload.RootElement.GetProperty("text").GetString());
        }
    }
}
