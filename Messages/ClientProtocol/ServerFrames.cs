using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SocketStarter.Messages.ClientProtocol;

/// <summary>The frames a client receives, written exactly as docs/protocol.md shows them.</summary>
public static class ServerFrames
{
    public static string Welcome(string sessionId, string resumeToken, bool resumed) => Write(w =>
    {
        w.WriteString("type", "welcome");
        w.WriteString("session", sessionId);
        w.WriteString("resume", resumeToken);
        w.WriteBoolean("resumed", resumed);
    });

    public static string Error(string code, string message, string? reference) => Write(w =>
    {
        w.WriteString("type", "error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        if (reference is not null) w.WriteString("ref", reference);
    });

    public static string Registered(string name) => Write(w =>
    {
        w.WriteString("type", "registered");
        w.WriteString("name", name);
    });

    /// <param name="more">The catch-up did not fit: the rest follows at once as <c>message</c> frames.</param>
    public static string Joined(string room, IEnumerable<string> members, IEnumerable<ChatMessage> history, bool more = false) => Write(w =>
    {
        w.WriteString("type", "joined");
        w.WriteString("room", room);
        w.WriteStartArray("members");
        foreach (var member in members) w.WriteStringValue(member);
        w.WriteEndArray();
        w.WriteStartArray("history");
        foreach (var message in history)
        {
            w.WriteStartObject();
            WriteMessage(w, room, message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (more) w.WriteBoolean("more", true);
    });

    public static string Left(string room) => Write(w =>
    {
        w.WriteString("type", "left");
        w.WriteString("room", room);
    });

    public static string Presence(string room, string? joined, string? left) => Write(w =>
    {
        w.WriteString("type", "presence");
        w.WriteString("room", room);
        if (joined is not null) w.WriteString("joined", joined);
        if (left is not null) w.WriteString("left", left);
    });

    public static string Message(string room, ChatMessage message) => Write(w => WriteMessage(w, room, message));

    /// <summary>What MQTT subscribers get for a <c>message</c> frame (docs/protocol.md): the same object without <c>type</c>.</summary>
    public static byte[] MqttPayload(string messageFrame)
    {
        using var document = JsonDocument.Parse(messageFrame);
        var buffer = new ArrayBufferWriter<byte>(messageFrame.Length);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
                if (property.Name != "type") property.WriteTo(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMessage(Utf8JsonWriter w, string room, ChatMessage message)
    {
        w.WriteString("type", "message");
        w.WriteString("room", room);
        w.WriteNumber("seq", message.Seq);
        w.WriteString("from", message.From);
        w.WriteString("text", message.Text);
        if (message.ClientMessageId is not null) w.WriteString("id", message.ClientMessageId);
        w.WriteString("ts", message.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }

    // Clients parse JSON, not HTML: keep non-ASCII text as it is rather than \u-escaped.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>The error codes of docs/protocol.md.</summary>
public static class ErrorCodes
{
    public const string BadFrame = "bad_frame";
    public const string UnknownType = "unknown_type";
    public const string InvalidName = "invalid_name";
    public const string NameTaken = "name_taken";
    public const string NotRegistered = "not_registered";
    public const string InvalidRoom = "invalid_room";
    public const string NotJoined = "not_joined";
    public const string InvalidText = "invalid_text";
    public const string RateLimited = "rate_limited";
    public const string Unavailable = "unavailable";
    public const string InternalError = "internal_error";
    public const string TooManyRooms = "too_many_rooms";
    public const string Unauthorized = "unauthorized";
}
