using System.Net;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>The management CLI against a real 2-frontend, 2-backend cluster, as an operator uses it.</summary>
public sealed class ClusterOperationsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private async Task<string> Ssctl(NodeProcess node, string command, int expectedExit = 0)
    {
        var (exitCode, text) = await TestCluster.SsctlAsync(node, command);
        output.WriteLine($"$ ssctl {node.ManagementEndpoint} {command}  (exit {exitCode})\n{text}");
        Assert.Equal(expectedExit, exitCode);
        return text;
    }

    [Fact]
    public async Task Operators_see_the_cluster_move_shards_with_leave_and_remove_a_crashed_node_with_down()
    {
        await using var cluster = await TestCluster.StartAsync(backends: 2, frontends: 2);
        var frontend = cluster.Nodes[0];
        var (backendA, backendB) = (cluster.Nodes[2], cluster.Nodes[3]);
        await using var load = await ChatLoad.StartAsync(cluster.WebSocketUris[1], clients: 8, rooms: 4, interval: TimeSpan.FromMilliseconds(300));

        // Both frontends serve once one backend is up: the second backend may still be joining, so ask
        // until the leader has moved all four nodes up.
        var show = await TestCluster.Eventually(() => Ssctl(frontend, "cluster show"),
            text => Regex.Matches(text, @"\| up \|").Count == 4, Wait);
        Assert.Equal(2, Regex.Matches(show, @"\| \[frontend\] \| up \|").Count);
        Assert.Equal(2, Regex.Matches(show, @"\| \[backend\] \| up \|").Count);
        Assert.Contains("Count: 4 nodes", show);
        Assert.Contains(backendA.Address, show);

        // Both backends hold room shards; after backendA leaves, backendB holds all of them and chat goes on.
        var before = await TestCluster.Eventually(() => Ssctl(frontend, "cluster-sharding region-stats -r topic"),
            text => text.Contains(backendA.Address) && text.Contains(backendB.Address), Wait);
        Assert.Contains(backendA.Address, before);
        await Ssctl(frontend, $"cluster leave {backendA.Address}");
        Assert.True(await backendA.WaitForExitAsync(Wait), "a backend asked to leave shuts down");
        // The shard coordinators may be moving with the node that left: ask until they answer again.
        var after = await TestCluster.Eventually(() => Ssctl(frontend, "cluster-sharding region-stats -r topic"),
            text => text.Contains(backendB.Address), Wait);
        Assert.DoesNotContain(backendA.Address, after);
        Assert.Contains(backendB.Address, after);
        Assert.Contains("Total: 1 regions", after);

        // A crashed backend is removed by `cluster down`.
        var backendC = cluster.StartBackend();
        await TestCluster.Eventually(() => Ssctl(frontend, "cluster show"), text => text.Contains("Count: 4 nodes"), TimeSpan.FromSeconds(30));
        backendC.Kill();
        // Down it before the failure detector and the split-brain resolver would (3 s + 5 s).
        await Ssctl(frontend, $"cluster down -a {backendC.Address}");
        var final = await TestCluster.Eventually(() => Ssctl(frontend, "cluster show"), text => !text.Contains(backendC.Address), Wait);
        Assert.DoesNotContain(backendC.Address, final);
        Assert.Contains("Count: 3 nodes", final);

        await load.StopAsync(Wait);
        foreach (var client in load.Clients)
        {
            Assert.False(client.Connection.Closed, $"{client.Name} was disconnected");
            Assert.Equal(0, client.Duplicates);
            Assert.Equal(0, client.Outstanding);
        }
        Assert.Contains("Sessions: ", await Ssctl(cluster.Nodes[1], "sessions count"));
        Assert.Matches(@"load\d+-0 \| members: 2", await Ssctl(backendB, "topics list"));
    }

    [Fact]
    public async Task Drain_moves_clients_to_another_frontend_with_their_sessions()
    {
        await using var cluster = await TestCluster.StartAsync(backends: 1, frontends: 2);
        await using var client = await ChatClient.ConnectAsync(cluster.WebSocketUris[0]);
        await client.SendAsync(new { type = "register", name = "drifter" });
        await client.ExpectAsync("registered", Wait);

        Assert.Contains("1 connections asked to resume elsewhere", await Ssctl(cluster.Nodes[0], "frontend drain"));
        Assert.Equal((WebSocketCloseStatus)1012, await client.WaitClosedAsync(Wait));
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync($"http://127.0.0.1:{cluster.FrontendHttpPorts[0]}/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{cluster.FrontendHttpPorts[0]}/healthz/live")).StatusCode);

        await using var resumed = await ChatClient.ConnectAsync(cluster.WebSocketUris[1], resume: client.ResumeToken);
        Assert.True(resumed.Welcome.GetProperty("resumed").GetBoolean());
        await Ssctl(cluster.Nodes[0], "frontend drain");
        await Ssctl(cluster.Nodes[2], "frontend drain", expectedExit: 1);

        // A drain can be called off: the frontend takes connections again and reports ready.
        Assert.Contains("Accepting connections here again", await Ssctl(cluster.Nodes[0], "frontend undrain"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{cluster.FrontendHttpPorts[0]}/healthz/ready")).StatusCode);
        await using var back = await ChatClient.ConnectAsync(cluster.WebSocketUris[0]);
        Assert.False(back.Welcome.GetProperty("resumed").GetBoolean());
    }

    [Fact]
    public async Task Health_and_metrics_tell_what_a_node_is_doing()
    {
        await using var cluster = TestCluster.Create();
        var frontend = cluster.StartFrontend();
        using var http = new HttpClient();
        var baseUri = $"http://127.0.0.1:{cluster.FrontendHttpPorts[0]}";
        await TestCluster.Eventually(async () =>
        {
            try { return (await http.GetAsync($"{baseUri}/healthz/live")).StatusCode.ToString(); }
            catch (HttpRequestException e) { return e.Message; }
        }, s => s == "OK", Wait);

        cluster.StartBackend();
        await cluster.WaitUntilServingAsync();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{baseUri}/healthz/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://{cluster.Nodes[1].ManagementEndpoint}/healthz/ready")).StatusCode);

        await using var client = await ChatClient.ConnectAsync(cluster.WebSocketUri);
        var metrics = await http.GetStringAsync($"{baseUri}/metrics");
        Assert.Matches(@"socketstarter_connections_open\{[^}]*\} [1-9]", metrics);
        Assert.Matches(@"socketstarter_backend_reachable\{[^}]*\} 1", metrics);
        Assert.Matches(@"socketstarter_frames_in_total\{[^}]*\} [1-9]", metrics);
        // The runtime's and Kestrel's own meters, beside ours: what a dashboard for a .NET service expects.
        Assert.Matches(@"dotnet_gc_heap_total_allocated_bytes_total\{[^}]*\} [1-9]", metrics);
        Assert.Matches(@"kestrel_active_connections\{[^}]*server_port=""" + cluster.FrontendHttpPorts[0] + @"""\} [1-9]", metrics);
        var backendMetrics = await http.GetStringAsync($"http://{cluster.Nodes[1].ManagementEndpoint}/metrics");
        Assert.Matches(@"dotnet_gc_heap_total_allocated_bytes_total\{[^}]*\} [1-9]", backendMetrics);

        // The management command endpoint answers on the management port only.
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"{baseUri}/cmd", new StringContent("cluster show"))).StatusCode);
        Assert.Contains("Count: 2 nodes", await Ssctl(frontend, "cluster show"));

        // One log per node: Akka's events through the host's logger; no line per HTTP request (a page load, a probe,
        // an ssctl call, a WebSocket), which would also write resume tokens.
        await http.GetAsync($"{baseUri}/");
        Assert.Contains("info: Akka.", frontend.Output);
        Assert.Contains("Leader is moving node", frontend.Output);
        Assert.DoesNotContain("Request starting", frontend.Output);
        Assert.DoesNotContain("Request starting", cluster.Nodes[1].Output);
    }

    [Fact]
    public async Task A_backend_whose_journal_cannot_be_reached_is_live_but_not_ready()
    {
        await using var cluster = TestCluster.Create();
        cluster.StartFrontend();
        var backend = cluster.StartBackend(environment: new()
        {
            // A PostgreSQL journal on a port where nothing listens.
            ["JOURNAL_PROVIDER"] = "PostgreSQL15",
            ["JOURNAL_CONNECTION_STRING"] = $"Host=127.0.0.1;Port={TestCluster.FreePort()};Username=none;Password=none;Database=none;Timeout=2",
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var node = $"http://{backend.ManagementEndpoint}";
        await TestCluster.Eventually(async () =>
        {
            try { return (await http.GetAsync($"{node}/healthz/live")).StatusCode.ToString(); }
            catch (HttpRequestException e) { return e.Message; }
        }, s => s == "OK", Wait);
        Assert.Contains("Count: 2 nodes", await TestCluster.Eventually(() => Ssctl(backend, "cluster show"), s => s.Contains("Count: 2 nodes"), Wait));

        // A load balancer or an orchestrator sends it nothing: it could not persist, so it could not acknowledge. The
        // cluster check passes (it is an Up member); the journal's is the one that fails.
        var ready = await http.GetAsync($"{node}/healthz/ready");
        var report = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, $"/healthz/ready answered {ready.StatusCode}:\n{report}");
        Assert.Matches(@"(?m)^journal: Unhealthy", report);
        Assert.Contains("Failure during SQL Journal initialization", backend.Output);
    }
}
