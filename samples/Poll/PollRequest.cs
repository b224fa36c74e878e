using System.Text.Json;
using System.Text.RegularExpressions;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Messages.ClientProtocol;

namespace SocketStarter.Samples.Poll;

/// <summary>A poll client's frame, read and checked (samples/Poll/README.md); a bad one throws a <see cref="ClientError"/>.</summary>
public abstract partial record PollRequest(string Poll)
{
    public sealed record Create(string Poll, string Question, IReadOnlyList<string> Options) : PollRequest(Poll);
    public sealed record Watch(string Poll) : PollRequest(Poll);
    public sealed record Unwatch(string Poll) : PollRequest(Poll);
    public sealed record Vote(string Poll, int Option) : PollRequest(Poll);

    public static PollRequest Parse(string frame)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(frame);
        }
        catch (JsonException)
        {
            throw new ClientError(ErrorCodes.BadFrame, "The frame is not valid JSON.");
        }
        using var parsed = document;
        var root = parsed.RootElement;
        var type = String(root, "type", 1, 16);
        var poll = String(root, "poll", 1, 32);
        if (!PollPattern().IsMatch(poll)) throw new ClientError("invalid_poll", "A poll id is 1-32 characters of a-z 0-9 _ -.", type);
        return type switch
        {
            "create" => new Create(poll, String(root, "question", 1, 200), ReadOptions(root)),
            "watch" => new Watch(poll),
            "unwatch" => new Unwatch(poll),
            "vote" => new Vote(poll, root.TryGetProperty("option", out var o) && o.TryGetInt32(out var option)
                ? option
                : throw new ClientError(ErrorCodes.BadFrame, "'vote' needs a whole number 'option'.", "vote")),
            _ => throw new ClientError(ErrorCodes.UnknownType, $"Unknown frame type '{type}'.", type),
        };
    }

    private static IReadOnlyList<string> ReadOptions(JsonElement root)
    {
        if (!root.TryGetProperty("options", out var options) || options.ValueKind != JsonValueKind.Array
            || options.GetArrayLength() is < 2 or > 10 || options.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.String || o.GetString()!.Length is < 1 or > 60))
            throw new ClientError(ErrorCodes.BadFrame, "'options' is a list of 2-10 strings of 1-60 characters.", "create");
        return options.EnumerateArray().Select(o => o.GetString()!).ToList();
    }

    private static string String(JsonElement root, string field, int min, int max) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { } text && text.Length >= min && text.Length <= max
            ? text
            : throw new ClientError(ErrorCodes.BadFrame, $"'{field}' must be a string of {min}-{max} characters.", null);

    [GeneratedRegex(@"^[a-z0-9_-]{1,32}\z")]
    private static partial Regex PollPattern();
}
