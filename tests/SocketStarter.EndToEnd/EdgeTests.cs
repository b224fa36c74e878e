using System.Net.WebSockets;

namespace SocketStarter.EndToEnd;

/// <summary>The attacks of the edge issue, replayed from outside against real nodes: each must change nothing for others.</summary>
public sealed class EdgeTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private Uri Uri => fixture.Cluster.WebSocketUri;

    private static string Unique(string prefix) => $"{prefix}{Random.Shared.Next(100_000, 999_999)}";

    private async Task<ChatClient> InRoomAsync(string name, string room, string? resume = null)
    {
        var client = await ChatClient.ConnectAsync(Uri, resume);
        await client.SendAsync(new { type = "register", name });
        await client.ExpectAsync("registered", Wait);
        await client.SendAsync(new { type = "join", room });
        await client.ExpectAsync("joined", Wait);
        return client;
    }

    private static async Task<string> ErrorCodeAsync(ChatClient client) =>
        (await client.ExpectAsync("error", Wait)).GetProperty("code").GetString()!;

    [Theory]
    [InlineData("""{"type":"\ud800"}""")]
    [InlineData("""{"type":"say","room":"ROOM","text":"a\udc00b"}""")]
    [InlineData("""{"type":"join","room":"\ud83d"}""")]
    [InlineData("""{"type":"register","name":"x\ud800"}""")]
    [InlineData("""{"type":"say","room":"ROOM","text":"ok","extra":{"\udfff":1}}""")]
    public async Task A_lone_surrogate_is_a_bad_frame_and_the_connection_and_session_go_on(string frameTemplate)
    {
        var (room, name) = (Unique("room"), Unique("sur"));
        await using var client = await InRoomAsync(name, room);
        await using var other = await InRoomAsync(Unique("other"), room);

        await client.SendTextAsync(frameTemplate.Replace("ROOM", room));
        Assert.Equal("bad_frame", await ErrorCodeAsync(client));

        // The connection, the session, its name and its room are all still there.
        await client.SendAsync(new { type = "say", room, text = "still here" });
        var message = await other.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "still here");
        Assert.Equal(name, message.GetProperty("from").GetString());
        Assert.Equal(name, (await client.ExpectAsync("message", Wait)).GetProperty("from").GetString());
    }

    [Fact]
    public async Task A_resume_with_a_wrong_secret_changes_nothing_for_the_owner()
    {
        var room = Unique("room");
        await using var victim = await InRoomAsync(Unique("victim"), room);
        await using var talker = await InRoomAsync(Unique("talker"), room);

        var forged = $"{victim.SessionId}.{new string('0', 32)}";
        await using var attacker = await ChatClient.ConnectAsync(Uri, resume: forged);
        Assert.False(attacker.Welcome.GetProperty("resumed").GetBoolean());
        Assert.NotEqual(victim.SessionId, attacker.SessionId);

        await talker.SendAsync(new { type = "say", room, text = "for the victim" });
        await victim.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "for the victim");
        await victim.SendAsync(new { type = "say", room, text = "victim speaks" });
        await talker.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "victim speaks");
        Assert.DoesNotContain(attacker.Drain(), frame => frame.GetProperty("type").GetString() == "message");
    }

    [Fact]
    public async Task A_second_resume_with_the_same_token_closes_the_first_connection()
    {
        var room = Unique("room");
        await using var first = await InRoomAsync(Unique("twice"), room);
        await using var talker = await InRoomAsync(Unique("talker"), room);

        await using var second = await ChatClient.ConnectAsync(Uri, resume: first.ResumeToken);
        Assert.True(second.Welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal((WebSocketCloseStatus)4001, await first.WaitClosedAsync(Wait));

        // The session lives on in the second connection only.
        await talker.SendAsync(new { type = "say", room, text = "to the second" });
        await second.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "to the second");
        await second.SendAsync(new { type = "say", room, text = "from the second" });
        await talker.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "from the second");
    }

    [Fact]
    public async Task Resume_tokens_never_reach_the_logs()
    {
        await using var client = await InRoomAsync(Unique("logged"), Unique("room"));
        var secret = client.ResumeToken.Split('.')[1];
        await client.DisposeAsync();
        await using var resumed = await ChatClient.ConnectAsync(Uri, resume: client.ResumeToken);
        Assert.True(resumed.Welcome.GetProperty("resumed").GetBoolean());
        foreach (var node in fixture.Cluster.Nodes) Assert.DoesNotContain(secret, node.Output);
    }
}
