using System.Diagnostics;
using System.Net.WebSockets;
using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>Backend restarts, crashes and scale-out under steady chat traffic, with real processes.</summary>
public sealed class ZeroDowntimeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(PostgresServer.Sqlite)]
    [InlineData(PostgresServer.PostgreSql)]
    public async Task Graceful_restart_of_the_only_backend_is_a_delay_not_a_disconnect(string journal)
    {
        await using var postgres = await PostgresServer.ForJournalAsync(journal);
        await using var cluster = await TestCluster.StartAsync(backends: 1, environment: postgres?.JournalEnvironment);
        await using var load = await ChatLoad.StartAsync(cluster.WebSocketUri, clients: 10, rooms: 3, interval: TimeSpan.FromMilliseconds(300));
        await Task.Delay(2000);

        var stopping = Stopwatch.StartNew();
        var faultAt = load.Now;
        cluster.Nodes[1].Terminate();
        Assert.True(await cluster.Nodes[1].WaitForExitAsync(TimeSpan.FromSeconds(10)), "SIGTERM must stop a backend within 10 s");
        output.WriteLine($"backend exited {stopping.ElapsedMilliseconds} ms after SIGTERM");
        cluster.StartBackend();
        await Task.Delay(8000);
        await load.StopAsync(Wait);

        output.WriteLine($"longest round trip around the restart: {load.LongestRoundTrip(faultAt - TimeSpan.FromSeconds(1), load.Now).TotalMilliseconds:F0} ms");
        load.AssertNothingLost(allowGaps: false);
    }

    /// <summary>
    /// The chaos run of the zero-downtime issue: 1 frontend, 1 then 2 backends, 30 clients in 6 rooms chatting
    /// steadily and the poll sample's sessions voting beside them; a graceful restart of each backend, a backend
    /// added, and a SIGKILL followed by a restart.
    /// </summary>
    [Theory]
    [InlineData(PostgresServer.Sqlite)]
    [InlineData(PostgresServer.PostgreSql)]
    public async Task Chaos_restarts_crashes_and_scale_out_lose_nothing(string journal)
    {
        await using var postgres = await PostgresServer.ForJournalAsync(journal);
        await using var cluster = await TestCluster.StartAsync(backends: 1, environment: postgres?.JournalEnvironment);
        await using var load = await ChatLoad.StartAsync(cluster.WebSocketUri, clients: 30, rooms: 6, interval: TimeSpan.FromMilliseconds(500));
        await using var voting = await PollVoting.StartAsync(new Uri(cluster.WebSocketUri, "/poll/ws"));
        var faults = new List<(string Name, TimeSpan At)>();
        var settle = TimeSpan.FromSeconds(8);
        await Task.Delay(3000);

        async Task GracefulRestart(int index)
        {
            var node = cluster.Nodes[index];
            faults.Add(($"graceful restart of {node.Name}", load.Now));
            node.Terminate();
            Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{node.Name} did not exit within 10 s of SIGTERM");
            cluster.StartBackend(node.AkkaPort);
            await Task.Delay(settle);
        }

        await GracefulRestart(1);                       // the only backend
        faults.Add(("backend added", load.Now));
        cluster.StartBackend();
        await Task.Delay(settle);
        await GracefulRestart(cluster.Nodes.Count - 2); // one of two
        await GracefulRestart(cluster.Nodes.Count - 2); // the other one

        var victim = cluster.Nodes[^1];
        var killedAt = load.Now;
        faults.Add(($"SIGKILL of {victim.Name} and restart", killedAt));
        victim.Kill();
        await victim.WaitForExitAsync(Wait);
        cluster.StartBackend(victim.AkkaPort);
        await Task.Delay(TimeSpan.FromSeconds(15));
        await load.StopAsync(TimeSpan.FromSeconds(5));
        output.WriteLine($"poll votes, each answered once and counted once: {await voting.AssertEveryVoteCountedOnceAsync()}");

        foreach (var client in load.Clients) await client.CatchUpAsync();
        await Task.Delay(3000);

        for (var i = 0; i < faults.Count; i++)
        {
            var end = i + 1 < faults.Count ? faults[i + 1].At : load.Now;
            output.WriteLine($"{faults[i].Name,-40} longest round trip {load.LongestRoundTrip(faults[i].At - TimeSpan.FromSeconds(1), end).TotalMilliseconds,6:F0} ms");
        }
        output.WriteLine($"messages sent: {load.Clients.Sum(c => c.Sent.Count)}, gaps seen after the kill (filled by since): {load.Clients.Sum(c => c.Gaps.Count)}");

        foreach (var client in load.Clients)
            Assert.DoesNotContain(client.Gaps, gap => gap.At < killedAt);
        load.AssertNothingLost(allowGaps: true);
        await load.AssertRoomsHoldEverySentMessageOnce(cluster.WebSocketUri);
    }
}
