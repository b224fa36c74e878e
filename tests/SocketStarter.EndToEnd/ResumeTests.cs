namespace SocketStarter.EndToEnd;

/// <summary>docs/protocol.md's resume: same session on any frontend within the window, a fresh one otherwise.</summary>
public sealed class ResumeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_session_resumes_on_another_frontend_with_its_name_rooms_and_deliveries()
    {
        await using var cluster = await TestCluster.StartAsync(backends: 1, frontends: 2);
        var (first, second) = (cluster.WebSocketUris[0], cluster.WebSocketUris[1]);
        await using var alice = await ChatClient.InRoomAsync(first, "alice", "lobby");
        await using var bob = await ChatClient.InRoomAsync(second, "bob", "lobby");
        await alice.ExpectAsync("presence", Wait);

        await alice.DisposeAsync();
        await using var resumed = await ChatClient.ConnectAsync(second, resume: alice.ResumeToken);
        Assert.True(resumed.Welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal(alice.SessionId, resumed.SessionId);

        // The name is still held by the resumed session.
        await using var impostor = await ChatClient.ConnectAsync(first);
        await impostor.SendAsync(new { type = "register", name = "alice" });
        Assert.Equal("name_taken", (await impostor.ExpectAsync("error", Wait)).GetProperty("code").GetString());

        // Rooms are kept, both ways, without joining again.
        await bob.SendAsync(new { type = "say", room = "lobby", text = "welcome back" });
        Assert.Equal("welcome back", (await resumed.ExpectAsync("message", Wait)).GetProperty("text").GetString());
        await resumed.SendAsync(new { type = "say", room = "lobby", text = "thanks" });
        var atBob = await bob.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "thanks");
        Assert.Equal("alice", atBob.GetProperty("from").GetString());
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef")]
    public async Task An_unknown_resume_token_gives_a_fresh_session(string token)
    {
        await using var cluster = await TestCluster.StartAsync();
        await using var client = await ChatClient.ConnectAsync(cluster.WebSocketUri, resume: token);
        Assert.False(client.Welcome.GetProperty("resumed").GetBoolean());
        Assert.NotEqual(token.Split('.')[0], client.SessionId);
        await client.SendAsync(new { type = "register", name = "fresh" });
        await client.ExpectAsync("registered", Wait);
    }

    [Fact]
    public async Task A_session_not_resumed_in_time_frees_its_name_and_leaves_its_rooms()
    {
        await using var cluster = await TestCluster.StartAsync(environment: new() { ["RESUME_WINDOW_SECONDS"] = "2" });
        var uri = cluster.WebSocketUri;
        var gone = await ChatClient.InRoomAsync(uri, "carol", "lobby");
        await using var dave = await ChatClient.InRoomAsync(uri, "dave", "lobby");
        await gone.DisposeAsync();

        var left = await dave.ExpectAsync("presence", Wait, p => p.TryGetProperty("left", out _));
        Assert.Equal("carol", left.GetProperty("left").GetString());

        await using var newcomer = await ChatClient.ConnectAsync(uri);
        await newcomer.SendAsync(new { type = "register", name = "carol" });
        await newcomer.ExpectAsync("registered", Wait);

        await using var late = await ChatClient.ConnectAsync(uri, resume: gone.ResumeToken);
        Assert.False(late.Welcome.GetProperty("resumed").GetBoolean());
    }
}
