using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SocketStarter.EndToEnd;

/// <summary>docs/protocol.md's WebSocket rules, checked from outside against real frontend and backend processes.</summary>
public sealed class ChatProtocolTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private Uri Uri => fixture.Cluster.WebSocketUri;

    private static string Unique(string prefix) => $"{prefix}{Random.Shared.Next(100_000, 999_999)}";

    private async Task<ChatClient> RegisteredAsync(string name)
    {
        var client = await ChatClient.ConnectAsync(Uri);
        await client.SendAsync(new { type = "register", name });
        var registered = await client.ExpectAsync("registered", Wait);
        Assert.Equal(name, registered.GetProperty("name").GetString());
        return client;
    }

    private static async Task<JsonElement> ExpectErrorAsync(ChatClient client, string code, string reference)
    {
        var error = await client.ExpectAsync("error", Wait);
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        if (reference.Length > 0) Assert.Equal(reference, error.GetProperty("ref").GetString());
        return error;
    }

    [Fact]
    public async Task Welcome_gives_a_unique_session_and_an_unguessable_resume_token()
    {
        await using var first = await ChatClient.ConnectAsync(Uri);
        await using var second = await ChatClient.ConnectAsync(Uri);
        Assert.False(first.Welcome.GetProperty("resumed").GetBoolean());
        Assert.NotEqual(first.SessionId, second.SessionId);
        Assert.NotEqual(first.ResumeToken, second.ResumeToken);
        Assert.Matches(new Regex("[0-9a-f]{32}$"), first.ResumeToken);
    }

    [Fact]
    public async Task Three_clients_chat_in_two_rooms()
    {
        var (lobby, games) = (Unique("lobby"), Unique("games"));
        var (aliceName, bobName, carolName) = (Unique("alice"), Unique("bob"), Unique("carol"));
        await using var alice = await RegisteredAsync(aliceName);
        await using var bob = await ChatClient.ConnectAsync(Uri);
        await using var carol = await ChatClient.ConnectAsync(Uri);

        // Names are unique regardless of case; bad names are refused.
        await bob.SendAsync(new { type = "register", name = aliceName.ToUpperInvariant() });
        await ExpectErrorAsync(bob, "name_taken", "register");
        await bob.SendAsync(new { type = "register", name = bobName });
        await bob.ExpectAsync("registered", Wait);
        await carol.SendAsync(new { type = "join", room = lobby });
        await ExpectErrorAsync(carol, "not_registered", "join");
        await carol.SendAsync(new { type = "register", name = "no spaces!" });
        await ExpectErrorAsync(carol, "invalid_name", "register");
        await carol.SendAsync(new { type = "register", name = carolName });
        await carol.ExpectAsync("registered", Wait);

        // Room names are case-folded; joiners get members and history, the others presence.
        await alice.SendAsync(new { type = "join", room = lobby.ToUpperInvariant() });
        var aliceJoined = await alice.ExpectAsync("joined", Wait);
        Assert.Equal(lobby, aliceJoined.GetProperty("room").GetString());
        Assert.Equal([aliceName], Strings(aliceJoined.GetProperty("members")));
        Assert.Equal(0, aliceJoined.GetProperty("history").GetArrayLength());

        await bob.SendAsync(new { type = "join", room = lobby });
        var bobJoined = await bob.ExpectAsync("joined", Wait);
        Assert.Equal(new[] { aliceName, bobName }.Order(), Strings(bobJoined.GetProperty("members")).Order());
        var presence = await alice.ExpectAsync("presence", Wait);
        Assert.Equal(bobName, presence.GetProperty("joined").GetString());

        await carol.SendAsync(new { type = "join", room = games });
        await carol.ExpectAsync("joined", Wait);
        await alice.SendAsync(new { type = "join", room = games });
        await alice.ExpectAsync("joined", Wait, f => f.GetProperty("room").GetString() == games);
        Assert.Equal(aliceName, (await carol.ExpectAsync("presence", Wait)).GetProperty("joined").GetString());

        // Every member gets the message, the sender too; others do not.
        await alice.SendAsync(new { type = "say", room = lobby, text = "hi bob", id = "c-1" });
        var atAlice = await alice.ExpectAsync("message", Wait);
        var atBob = await bob.ExpectAsync("message", Wait);
        Assert.Equal(1, atAlice.GetProperty("seq").GetInt64());
        Assert.Equal(atAlice.GetRawText(), atBob.GetRawText());
        Assert.Equal(aliceName, atBob.GetProperty("from").GetString());
        Assert.Equal("hi bob", atBob.GetProperty("text").GetString());
        Assert.Equal("c-1", atBob.GetProperty("id").GetString());
        Assert.Matches(new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"), atBob.GetProperty("ts").GetString());

        // The same client id again is not posted twice; the next message follows with no gap.
        await alice.SendAsync(new { type = "say", room = lobby, text = "hi bob", id = "c-1" });
        await bob.SendAsync(new { type = "say", room = lobby, text = "hello alice" });
        var second = await alice.ExpectAsync("message", Wait);
        Assert.Equal(2, second.GetProperty("seq").GetInt64());
        Assert.Equal(bobName, second.GetProperty("from").GetString());
        Assert.False(second.TryGetProperty("id", out _));
        Assert.Equal(2, (await bob.ExpectAsync("message", Wait)).GetProperty("seq").GetInt64());

        await carol.SendAsync(new { type = "say", room = games, text = "anyone?" });
        Assert.Equal(games, (await alice.ExpectAsync("message", Wait)).GetProperty("room").GetString());
        Assert.Equal(games, (await carol.ExpectAsync("message", Wait)).GetProperty("room").GetString());

        // Rules of say.
        await bob.SendAsync(new { type = "say", room = games, text = "let me in" });
        await ExpectErrorAsync(bob, "not_joined", "say");
        await bob.SendAsync(new { type = "say", room = "Not A Room!", text = "x" });
        await ExpectErrorAsync(bob, "invalid_room", "say");
        await bob.SendAsync(new { type = "say", room = lobby, text = "" });
        await ExpectErrorAsync(bob, "invalid_text", "say");
        await bob.SendAsync(new { type = "say", room = lobby, text = new string('x', 4001) });
        await ExpectErrorAsync(bob, "invalid_text", "say");

        // Catching up with since.
        await carol.SendAsync(new { type = "join", room = lobby, since = 1 });
        var catchUp = await carol.ExpectAsync("joined", Wait, f => f.GetProperty("room").GetString() == lobby);
        Assert.Equal([2L], catchUp.GetProperty("history").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));

        // Leave: answered, presence to the others, and no more messages from that room.
        await bob.SendAsync(new { type = "leave", room = lobby });
        Assert.Equal(lobby, (await bob.ExpectAsync("left", Wait)).GetProperty("room").GetString());
        Assert.Equal(bobName, (await alice.ExpectAsync("presence", Wait, f => f.TryGetProperty("left", out _))).GetProperty("left").GetString());
        await bob.SendAsync(new { type = "say", room = lobby, text = "still here?" });
        await ExpectErrorAsync(bob, "not_joined", "say");
        await alice.SendAsync(new { type = "say", room = lobby, text = "bye bob" });
        Assert.Equal(3, (await alice.ExpectAsync("message", Wait)).GetProperty("seq").GetInt64());
        await bob.SendAsync(new { type = "join", room = games });
        await bob.ExpectAsync("joined", Wait);
        Assert.DoesNotContain(bob.Drain(), f => f.GetProperty("type").GetString() == "message");
    }

    [Fact]
    public async Task Bad_frames_get_errors_and_the_node_still_serves()
    {
        var room = Unique("room");
        await using var client = await RegisteredAsync(Unique("eve"));
        await client.SendAsync(new { type = "join", room });
        await client.ExpectAsync("joined", Wait);

        await client.SendTextAsync(""); // an empty message ends with the frontend's zero-byte wait for it
        await ExpectErrorAsync(client, "bad_frame", "");
        await client.SendTextAsync("this is not json");
        await ExpectErrorAsync(client, "bad_frame", "");
        await client.SendTextAsync("[1,2,3]");
        await ExpectErrorAsync(client, "bad_frame", "");
        await client.SendTextAsync("{\"type\": 42}");
        await ExpectErrorAsync(client, "bad_frame", "");
        await client.SendRawAsync([1, 2, 3, 4], WebSocketMessageType.Binary);
        await ExpectErrorAsync(client, "bad_frame", "");
        await client.SendAsync(new { type = "dance" });
        await ExpectErrorAsync(client, "unknown_type", "dance");
        await client.SendAsync(new { type = "say", room });
        await ExpectErrorAsync(client, "bad_frame", "say");
        await client.SendAsync(new { type = "join", room, since = "yesterday" });
        await ExpectErrorAsync(client, "bad_frame", "join");

        await client.SendAsync(new { type = "say", room, text = "still connected" });
        Assert.Equal("still connected", (await client.ExpectAsync("message", Wait)).GetProperty("text").GetString());

        // Over 64 KiB: closed with 1009, and the node serves the next client.
        var frameAtLimit = $"{{\"type\":\"say\",\"room\":\"{room}\",\"text\":\"x\",\"pad\":\"{new string('p', 65536 - 44 - room.Length)}\"}}";
        Assert.Equal(65536, System.Text.Encoding.UTF8.GetByteCount(frameAtLimit));
        await client.SendTextAsync(frameAtLimit);
        await client.ExpectAsync("message", Wait, f => f.GetProperty("text").GetString() == "x");

        await client.SendTextAsync($"{{\"type\":\"say\",\"room\":\"{room}\",\"text\":\"{new string('y', 65536)}\"}}");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.WaitClosedAsync(Wait));

        await using var next = await RegisteredAsync(Unique("frank"));
        await next.SendAsync(new { type = "join", room });
        var joined = await next.ExpectAsync("joined", Wait);
        Assert.Equal(2, joined.GetProperty("history").GetArrayLength());
    }

    [Fact]
    public async Task Join_sends_the_last_50_messages_oldest_first()
    {
        var room = Unique("busy");
        await using var talker = await RegisteredAsync(Unique("talker"));
        await talker.SendAsync(new { type = "join", room });
        await talker.ExpectAsync("joined", Wait);
        for (var i = 1; i <= 55; i++) await talker.SendAsync(new { type = "say", room, text = $"message {i}" });
        await talker.ExpectAsync("message", Wait, f => f.GetProperty("seq").GetInt64() == 55);

        await using var listener = await RegisteredAsync(Unique("listener"));
        await listener.SendAsync(new { type = "join", room });
        var history = (await listener.ExpectAsync("joined", Wait)).GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(6, 50).Select(i => (long)i), history.Select(m => m.GetProperty("seq").GetInt64()));
        Assert.Equal("message 55", history[^1].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Renaming_frees_the_old_name_and_tells_the_room()
    {
        var room = Unique("names");
        var (oldName, newName) = (Unique("old"), Unique("new"));
        await using var renamer = await RegisteredAsync(oldName);
        await using var watcher = await RegisteredAsync(Unique("watcher"));
        await renamer.SendAsync(new { type = "join", room });
        await renamer.ExpectAsync("joined", Wait);
        await watcher.SendAsync(new { type = "join", room });
        await watcher.ExpectAsync("joined", Wait);

        await renamer.SendAsync(new { type = "register", name = newName });
        await renamer.ExpectAsync("registered", Wait);
        Assert.Equal(newName, (await watcher.ExpectAsync("presence", Wait, f => f.TryGetProperty("joined", out _))).GetProperty("joined").GetString());

        await using var taker = await RegisteredAsync(oldName);
        await renamer.SendAsync(new { type = "say", room, text = "new me" });
        Assert.Equal(newName, (await watcher.ExpectAsync("message", Wait)).GetProperty("from").GetString());
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();
}
