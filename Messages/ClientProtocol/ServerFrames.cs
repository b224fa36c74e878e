using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SocketStarter.Messages.ClientProtocol;

/// <summary>The frames the gateway itself sends a client (docs/protocol.md); an application writes its own with <see cref="Write"/>.</summary>
public static class ServerFrames
{
    public static string Welcome(string sessionId, string resumeToken, bool resumed) => Write(w =>
    {
        w.WriteString("type", "welcome");
        w.WriteString("session", sessionId);
        w.WriteString("resume", resumeToken);
        w.WriteBoolean("resumed", resumed);
    });

    /// <param name="id">The failed frame's own <c>id</c>, if it had one: a client that resends refused frames knows which.</param>
    public static string Error(string code, string message, string? reference, string? id = null) => Write(w =>
    {
        w.WriteString("type", "error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        if (reference is not null) w.WriteString("ref", reference);
        if (id is not null) w.WriteString("id", id);
    });

    /// <summary>What MQTT subscribers get for a <c>message</c> frame (docs/protocol.md): the same object without <c>type</c>.</summary>
    public static byte[] MqttPayload(string messageFrame)
    {
        var buffer = new ArrayBufferWriter<byte>(messageFrame.Length);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            WriteFieldsOf(writer, messageFrame, except: "type");
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the fields of <paramref name="jsonObject"/> (but <paramref name="except"/>) into the object being
    /// written: an application's stored payload becomes part of its frame.</summary>
    public static void WriteFieldsOf(Utf8JsonWriter writer, string jsonObject, string? except = null)
    {
        using var document = JsonDocument.Parse(jsonObject);
        foreach (var field in document.RootElement.EnumerateObject())
            if (field.Name != except) field.WriteTo(writer);
    }

    // Clients parse JSON, not HTML: keep non-ASCII text as it is rather than \u-escaped.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One JSON object, written by <paramref name="body"/>, with non-ASCII text kept as it is.</summary>
    public static string Write(Action<Utf8JsonWriter> body)
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

/// <summary>The error codes the gateway itself sends (docs/protocol.md); an application adds its own.</summary>
public static class ErrorCodes
{
    public const string BadFrame = "bad_frame";
    /// <summary>A frame type the application does not know.</summary>
    public const string UnknownType = "unknown_type";
    public const string RateLimited = "rate_limited";
    public const string Unavailable = "unavailable";
    public const string InternalError = "internal_error";
    public const string Unauthorized = "unauthorized";
}
