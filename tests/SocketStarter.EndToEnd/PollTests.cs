using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>The second sample, a live poll, beside the chat on the same nodes, across a restart of the only backend.</summary>
public sealed class PollTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Votes_sent_across_a_backend_restart_are_counted_once_each_and_pushed_to_watchers_while_the_chat_runs_beside()
    {
        await using var cluster = await TestCluster.StartAsync(backends: 1);
        var chatUri = cluster.WebSocketUri;
        var pollUri = new Uri(chatUri, "/poll/ws");
        using (var http = new HttpClient())
            Assert.Contains("Live poll", await http.GetStringAsync(new UriBuilder(chatUri) { Scheme = "http", Path = "/poll/" }.Uri));

        var poll = $"lunch{Random.Shared.Next(100000)}";
        await using var creator = await ChatClient.ConnectAsync(pollUri);
        await creator.SendAsync(new { type = "create", poll, question = "Where?", options = new[] { "pizza", "sushi", "tacos" } });
        await creator.ExpectAsync("created", Wait);
        await using var watcher = await ChatClient.ConnectAsync(pollUri);
        await watcher.SendAsync(new { type = "watch", poll });
        Assert.Equal(0, (await watcher.ExpectAsync("watching", Wait)).GetProperty("results").GetProperty("total").GetInt32());
        await using var chatter = await ChatClient.InRoomAsync(chatUri, $"chatter{Random.Shared.Next(100000)}", "lobby");

        var voters = new List<ChatClient>();
        for (var i = 0; i < 12; i++) voters.Add(await ChatClient.ConnectAsync(pollUri));
        for (var i = 0; i < 6; i++) await voters[i].SendAsync(new { type = "vote", poll, option = i % 3 });

        // The second half votes while no backend runs: their frames are held, then applied once.
        var restart = Stopwatch.StartNew();
        cluster.Nodes[1].Terminate();
        Assert.True(await cluster.Nodes[1].WaitForExitAsync(TimeSpan.FromSeconds(10)), "SIGTERM must stop a backend within 10 s");
        for (var i = 6; i < 12; i++) await voters[i].SendAsync(new { type = "vote", poll, option = i % 3 });
        cluster.StartBackend();
        foreach (var voter in voters) await voter.ExpectAsync("voted", Wait);
        output.WriteLine($"every vote answered {restart.ElapsedMilliseconds} ms after the backend was stopped");

        await voters[0].SendAsync(new { type = "vote", poll, option = 1 });
        Assert.Equal("already_voted", (await voters[0].ExpectAsync("error", Wait)).GetProperty("code").GetString());

        // The watcher saw the results grow to every vote, each vote once; votes only add, so the newest has the most.
        var seen = new List<JsonElement>();
        using (var deadline = new CancellationTokenSource(Wait))
            while (seen.LastOrDefault() is not { ValueKind: JsonValueKind.Object } last || last.GetProperty("total").GetInt32() < 12)
            {
                var frame = await watcher.NextAsync(Wait);
                if (frame.GetProperty("type").GetString() == "results") seen.Add(frame);
            }
        var final = seen.MaxBy(r => r.GetProperty("total").GetInt32());
        Assert.Equal(12, final.GetProperty("total").GetInt32());
        Assert.Equal([4, 4, 4], final.GetProperty("votes").EnumerateArray().Select(v => v.GetInt32()));
        var seqs = seen.Select(r => r.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Distinct().Count(), seqs.Count);
        Assert.True(seqs.Max() <= 13, $"one results message per vote and one at creation, got seq {seqs.Max()}");
        await Task.Delay(1000);
        Assert.DoesNotContain(watcher.Drain(), f => f.GetProperty("type").GetString() == "results" && f.GetProperty("total").GetInt32() > 12);

        // The chat on the same frontend and backend carried on.
        await chatter.SendAsync(new { type = "say", room = "lobby", text = "still here" });
        Assert.Equal("still here", (await chatter.ExpectAsync("message", Wait)).GetProperty("text").GetString());
        foreach (var voter in voters) await voter.DisposeAsync();
    }
}
