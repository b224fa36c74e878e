using System.Diagnostics;
using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>The walkthrough's shout board (docs/application.md) does what the walkthrough says, across a backend restart.</summary>
public sealed class ShoutTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_shout_reaches_every_listener_once_in_order_across_a_restart_of_the_only_backend()
    {
        await using var cluster = await TestCluster.StartAsync(backends: 1);
        var shoutUri = new Uri(cluster.WebSocketUri, "/shout/ws");
        await using var listener = await ChatClient.ConnectAsync(shoutUri);
        await listener.SendAsync(new { type = "listen" });
        await listener.ExpectAsync("listening", Wait);
        await using var shouter = await ChatClient.ConnectAsync(shoutUri);
        await shouter.SendAsync(new { type = "shout", text = "" });
        Assert.Equal("invalid_text", (await shouter.ExpectAsync("error", Wait)).GetProperty("code").GetString());

        var restart = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            if (i == 5)
            {
                cluster.Nodes[1].Terminate();
                Assert.True(await cluster.Nodes[1].WaitForExitAsync(TimeSpan.FromSeconds(10)), "SIGTERM must stop a backend within 10 s");
                cluster.StartBackend();
            }
            await shouter.SendAsync(new { type = "shout", text = $"shout {i}" });
        }

        var heard = new List<(long Seq, string Text)>();
        while (heard.Count < 10)
        {
            var shout = await listener.ExpectAsync("shout", Wait);
            heard.Add((shout.GetProperty("seq").GetInt64(), shout.GetProperty("text").GetString()!));
        }
        output.WriteLine($"10 shouts heard {restart.ElapsedMilliseconds} ms after the first, with a backend restart between the 5th and the 6th");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"shout {i}"), heard.Select(h => h.Text));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), heard.Select(h => h.Seq));

        // A newcomer gets the recent shouts on arrival.
        await using var newcomer = await ChatClient.ConnectAsync(shoutUri);
        await newcomer.SendAsync(new { type = "listen" });
        var recent = (await newcomer.ExpectAsync("listening", Wait)).GetProperty("recent").EnumerateArray().Select(s => s.GetProperty("text").GetString());
        Assert.Equal(heard.Select(h => h.Text), recent);
    }
}
