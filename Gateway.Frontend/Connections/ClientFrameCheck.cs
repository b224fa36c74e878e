using System.Text;
using System.Text.Json;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// The only reading a frontend does of a client frame, before anything goes to a backend: a JSON object with a
/// string <c>type</c>, and every string in it encodable. A lone surrogate escape (<c>"\ud800"</c>) is valid JSON
/// but no valid text: refused here, it can never reach an entity that would have to encode it.
/// </summary>
public static class ClientFrameCheck
{
    public const string NotAnObject = "A frame must be a JSON object with a string field 'type'.";
    public const string NotText = "Every string in a frame must be valid Unicode text (no lone surrogate escapes).";

    /// <summary>The frame's type, or null with the reason it is refused.</summary>
    public static string? Type(string frame, out string problem)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(frame));
        string? type = null;
        problem = NotAnObject;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName)) continue;
                var isType = type is null && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1
                             && reader.ValueTextEquals("type"u8);
                // Only an escaped string can hold a lone surrogate: the frame's bytes are strict UTF-8.
                if (reader.ValueIsEscaped) reader.GetString();
                if (!isType) continue;
                if (!reader.Read() || reader.TokenType != JsonTokenType.String) return null;
                type = reader.GetString();
            }
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            problem = NotText;
            return null;
        }
        return type;
    }

    /// <summary>The frame's top-level string <c>id</c>, if any; read only for a frame that is refused, so that its
    /// error names it and the client can send that one again.</summary>
    public static string? Id(string frame)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(frame));
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1 || !reader.ValueTextEquals("id"u8)) continue;
                return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not a frame that could have been refused for its rate: it was refused as bad_frame first.
        }
        return null;
    }
}
