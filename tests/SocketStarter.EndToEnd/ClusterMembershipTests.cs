using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>How nodes come and go: start order, the join watchdog, crashes.</summary>
public sealed class ClusterMembershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_backend_started_before_the_frontend_keeps_trying_and_joins_when_it_comes_up()
    {
        await using var cluster = TestCluster.Create(new() { ["JOIN_WATCHDOG_SECONDS"] = "3" });
        var backend = cluster.StartBackend();
        // It warms its journal first, then gives up joining after the 3 s watchdog and starts over.
        var output = await TestCluster.Eventually(() => Task.FromResult(backend.Output), o => o.Contains("starting over"), TimeSpan.FromSeconds(20));
        Assert.False(backend.HasExited);
        Assert.Contains("starting over", output);

        cluster.StartFrontend();
        await cluster.WaitUntilServingAsync();
    }

    [Fact]
    public async Task When_the_only_frontend_restarts_its_clients_are_told_1012_and_the_backend_joins_it_again()
    {
        await using var cluster = await TestCluster.StartAsync();
        var (frontend, backend) = (cluster.Nodes[0], cluster.Nodes[1]);
        await using var client = await ChatClient.InRoomAsync(cluster.WebSocketUri, "stays", "lobby");
        frontend.Terminate();
        Assert.True(await frontend.WaitForExitAsync(Wait));
        // Told to resume elsewhere (1012), not cut off (1006, no close frame).
        Assert.Equal((System.Net.WebSockets.WebSocketCloseStatus)1012, await client.WaitClosedAsync(Wait));

        // The restarted seed forms a new cluster; the backend must find it rather than stay alone in the old one.
        var restartedAt = DateTime.UtcNow;
        cluster.RestartFrontend(0, frontend);
        await cluster.WaitUntilServingAsync();
        output.WriteLine($"serving again {(DateTime.UtcNow - restartedAt).TotalSeconds:F1} s after the frontend started");
        Assert.Contains("No frontend left in this cluster; starting over", backend.Output);

        backend.Terminate();
        Assert.True(await backend.WaitForExitAsync(Wait));
        Assert.Equal(0, backend.ExitCode);
    }

    [Fact]
    public async Task A_crashed_backend_is_replaced_by_one_on_another_port_and_clients_stay_connected()
    {
        await using var cluster = await TestCluster.StartAsync(backends: 1);
        await using var load = await ChatLoad.StartAsync(cluster.WebSocketUri, clients: 6, rooms: 2, interval: TimeSpan.FromMilliseconds(400));
        await Task.Delay(1500);

        var crashedAt = load.Now;
        cluster.Nodes[1].Kill();
        cluster.StartBackend();
        await Task.Delay(TimeSpan.FromSeconds(20));
        await load.StopAsync(Wait);
        foreach (var client in load.Clients) await client.CatchUpAsync();
        await Task.Delay(2000);

        output.WriteLine($"longest round trip after the crash: {load.LongestRoundTrip(crashedAt - TimeSpan.FromSeconds(1), load.Now).TotalMilliseconds:F0} ms");
        Assert.False(cluster.Nodes[0].HasExited, "the frontend must survive a backend crash");
        foreach (var client in load.Clients)
        {
            Assert.False(client.Connection.Closed);
            Assert.Equal(0, client.Duplicates);
            Assert.Equal(0, client.Outstanding);
            Assert.Empty(client.Errors);
        }
    }
}
