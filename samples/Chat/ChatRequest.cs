using System.Text.Json;
using System.Text.RegularExpressions;
using SocketStarter.Messages.ClientProtocol;

namespace SocketStarter.Samples.Chat;

/// <summary>A client frame read and checked against the field rules of docs/protocol.md.</summary>
public abstract partial record ChatRequest
{
    public sealed record Register(string Name) : ChatRequest;
    public sealed record Join(string Room, long? Since) : ChatRequest;
    public sealed record Leave(string Room) : ChatRequest;
    public sealed record Say(string Room, string Text, string? Id) : ChatRequest;
    /// <summary>The frame broke a rule: answered with this error, nothing else happens.</summary>
    public sealed record Rejected(string Code, string Message, string? Ref) : ChatRequest;

    public const int MaxTextLength = 4000;

    public static ChatRequest Parse(string payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload);
        }
        catch (JsonException)
        {
            return new Rejected(ErrorCodes.BadFrame, "The frame is not valid JSON.", null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return new Rejected(ErrorCodes.BadFrame, "The frame must be a JSON object.", null);
            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
                return new Rejected(ErrorCodes.BadFrame, "The frame needs a string field 'type'.", null);

            try
            {
                var type = typeElement.GetString()!;
                return type switch
                {
                    "register" => ParseRegister(root),
                    "join" => ParseJoin(root),
                    "leave" => ParseLeave(root),
                    "say" => ParseSay(root),
                    _ => new Rejected(ErrorCodes.UnknownType, $"Unknown frame type '{type}'.", type),
                };
            }
            catch (InvalidOperationException)
            {
                // A lone surrogate escape: valid JSON, but no text that could be stored or sent on. Frontends refuse
                // it before it gets here; this keeps the session whole if one does not.
                return new Rejected(ErrorCodes.BadFrame, "Every string in a frame must be valid Unicode text.", null);
            }
        }
    }

    /// <summary>Room names are case-folded, then must be 1-32 characters of a-z 0-9 _ -.</summary>
    public static string? NormalizeRoom(string room)
    {
        var folded = room.ToLowerInvariant();
        return RoomPattern().IsMatch(folded) ? folded : null;
    }

    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    private static ChatRequest ParseRegister(JsonElement root)
    {
        if (RequiredString(root, "name") is not { } name) return MissingField("name", "register");
        return IsValidName(name)
            ? new Register(name)
            : new Rejected(ChatErrorCodes.InvalidName, "A name is 1-24 characters of A-Z a-z 0-9 _ -.", "register");
    }

    private static ChatRequest ParseJoin(JsonElement root)
    {
        if (RequiredString(root, "room") is not { } roomText) return MissingField("room", "join");
        long? since = null;
        if (root.TryGetProperty("since", out var sinceElement) && sinceElement.ValueKind != JsonValueKind.Null)
        {
            if (sinceElement.ValueKind != JsonValueKind.Number || !sinceElement.TryGetInt64(out var value) || value < 0)
                return new Rejected(ErrorCodes.BadFrame, "'since' must be a whole number of 0 or more.", "join");
            since = value;
        }
        return NormalizeRoom(roomText) is { } room ? new Join(room, since) : InvalidRoom("join");
    }

    private static ChatRequest ParseLeave(JsonElement root)
    {
        if (RequiredString(root, "room") is not { } roomText) return MissingField("room", "leave");
        return NormalizeRoom(roomText) is { } room ? new Leave(room) : InvalidRoom("leave");
    }

    private static ChatRequest ParseSay(JsonElement root)
    {
        if (RequiredString(root, "room") is not { } roomText) return MissingField("room", "say");
        if (RequiredString(root, "text") is not { } text) return MissingField("text", "say");
        string? id = null;
        if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
        {
            if (idElement.ValueKind != JsonValueKind.String || idElement.GetString() is not { Length: >= 1 and <= 64 } idText)
                return new Rejected(ErrorCodes.BadFrame, "'id' must be a string of 1-64 characters.", "say");
            id = idText;
        }
        if (NormalizeRoom(roomText) is not { } room) return InvalidRoom("say");
        var length = text.EnumerateRunes().Count();
        if (length is < 1 or > MaxTextLength)
            return new Rejected(ChatErrorCodes.InvalidText, $"A message is 1-{MaxTextLength} characters.", "say");
        return new Say(room, text, id);
    }

    private static string? RequiredString(JsonElement root, string field) =>
        root.TryGetProperty(field, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;

    private static Rejected MissingField(string field, string type) =>
        new(ErrorCodes.BadFrame, $"'{type}' needs a string field '{field}'.", type);

    private static Rejected InvalidRoom(string type) =>
        new(ChatErrorCodes.InvalidRoom, "A room name is 1-32 characters of a-z 0-9 _ -.", type);

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,24}\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[a-z0-9_-]{1,32}\z")]
    private static partial Regex RoomPattern();
}
