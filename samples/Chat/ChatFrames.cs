using System.Globalization;
using System.Text.Json;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;

namespace SocketStarter.Samples.Chat;

/// <summary>The chat's frames, written exactly as docs/protocol.md shows them; a room is a gateway topic.</summary>
public sealed class ChatFrames : ITopicFrames
{
    public static string Registered(string name) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "registered");
        w.WriteString("name", name);
    });

    /// <summary>What a chat message is published as: the fields of its frame that the room does not add.</summary>
    public static string MessagePayload(string from, string text, string? clientMessageId) => ServerFrames.Write(w =>
    {
        w.WriteString("from", from);
        w.WriteString("text", text);
        if (clientMessageId is not null) w.WriteString("id", clientMessageId);
    });

    public string Message(string topic, TopicMessage message) => ServerFrames.Write(w => WriteMessage(w, topic, message));

    public string Subscribed(string topic, IEnumerable<string> presences, IEnumerable<TopicMessage> history, bool more) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "joined");
        w.WriteString("room", topic);
        w.WriteStartArray("members");
        foreach (var member in presences) w.WriteStringValue(member);
        w.WriteEndArray();
        w.WriteStartArray("history");
        foreach (var message in history)
        {
            w.WriteStartObject();
            WriteMessage(w, topic, message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (more) w.WriteBoolean("more", true);
    });

    public string Unsubscribed(string topic) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "left");
        w.WriteString("room", topic);
    });

    public string Presence(string topic, string? joined, string? left) => ServerFrames.Write(w =>
    {
        w.WriteString("type", "presence");
        w.WriteString("room", topic);
        if (joined is not null) w.WriteString("joined", joined);
        if (left is not null) w.WriteString("left", left);
    });

    private static void WriteMessage(Utf8JsonWriter w, string room, TopicMessage message)
    {
        w.WriteString("type", "message");
        w.WriteString("room", room);
        w.WriteNumber("seq", message.Seq);
        ServerFrames.WriteFieldsOf(w, message.Payload);
        w.WriteString("ts", message.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}

/// <summary>The chat's error codes (docs/protocol.md), beside the gateway's <see cref="ErrorCodes"/>.</summary>
public static class ChatErrorCodes
{
    public const string InvalidName = "invalid_name";
    public const string NameTaken = "name_taken";
    public const string NotRegistered = "not_registered";
    public const string InvalidRoom = "invalid_room";
    public const string NotJoined = "not_joined";
    public const string InvalidText = "invalid_text";
    public const string TooManyRooms = "too_many_rooms";
}
