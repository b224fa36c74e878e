using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>
/// Nodes on separate hosts (network namespaces, hosts/netns.sh) with chat load running, links between them cut
/// and healed; every client must see every message once, in order, and the rooms must hold each sent message once.
/// </summary>
public sealed class NetworkPartitionTests(ITestOutputHelper output)
{
    /// <summary>
    /// Two frontends (hosts 1, 2) behind HAProxy (on this machine, where the clients are), two backends (hosts 3, 4)
    /// and their PostgreSQL journal (host 5), each on its own host; the frontends are every node's seeds. Disposed in
    /// reverse: balancer, nodes, database, hosts.
    /// </summary>
    private sealed class Deployment : IAsyncDisposable
    {
        public required NetworkHosts Hosts { get; init; }
        public required PostgresServer Database { get; init; }
        public required TestCluster Cluster { get; init; }
        public required LoadBalancer Balancer { get; init; }
        public NetworkHost Frontend1 => Hosts.Hosts[0];
        public NetworkHost Frontend2 => Hosts.Hosts[1];
        public NetworkHost Backend1 => Hosts.Hosts[2];
        public NetworkHost Backend2 => Hosts.Hosts[3];
        public NetworkHost DatabaseHost => Hosts.Hosts[4];

        /// <param name="bootstrap">The nodes find each other through Cluster Bootstrap (the frontends' management
        /// endpoints as contact points) instead of fixed seeds.</param>
        public static async Task<Deployment> StartAsync(bool bootstrap = false)
        {
            var hosts = await NetworkHosts.CreateAsync(5);
            PostgresServer? database = null;
            TestCluster? cluster = null;
            LoadBalancer? balancer = null;
            try
            {
                database = await PostgresServer.StartAsync(hosts.Hosts[4]);
                var environment = database.JournalEnvironment;
                if (bootstrap)
                {
                    environment["AKKA_SEEDS"] = "";
                    environment["AKKA_BOOTSTRAP_CONTACT_POINTS"] = $"{hosts.Hosts[0].Address}:9110,{hosts.Hosts[1].Address}:9110";
                }
                else
                    environment["AKKA_SEEDS"] = $"{hosts.Hosts[0].Address}:4053,{hosts.Hosts[1].Address}:4053";
                cluster = TestCluster.Create(environment);
                cluster.StartFrontend(hosts.Hosts[0]);
                cluster.StartFrontend(hosts.Hosts[1]);
                cluster.StartBackend(host: hosts.Hosts[2]);
                cluster.StartBackend(host: hosts.Hosts[3]);
                await cluster.WaitUntilServingAsync();
                balancer = await LoadBalancer.StartAsync($"{hosts.Hosts[0].Address}:8080", $"{hosts.Hosts[1].Address}:8080");
                return new Deployment { Hosts = hosts, Database = database, Cluster = cluster, Balancer = balancer };
            }
            catch
            {
                if (balancer is not null) await balancer.DisposeAsync();
                if (cluster is not null) await cluster.DisposeAsync();
                if (database is not null) await database.DisposeAsync();
                await hosts.DisposeAsync();
                throw;
            }
        }

        /// <summary>When a fault began, when it healed, and when all four nodes were members again.</summary>
        public sealed record Fault(TimeSpan At, TimeSpan HealedAt, TimeSpan RejoinedAt);

        /// <summary>
        /// <paramref name="cut"/> under the running load for 20 s, then <paramref name="heal"/>; waits until all four nodes
        /// are members again (a downed one started over), lets the load run 3 s more, then stops it.
        /// </summary>
        public async Task<Fault> CutForTwentySecondsAsync(ChatLoad load, Func<NetworkHosts, Task> cut, Func<NetworkHosts, Task> heal)
        {
            var at = load.Now;
            await cut(Hosts);
            await Task.Delay(TimeSpan.FromSeconds(20));
            await heal(Hosts);
            var healedAt = load.Now;
            await TestCluster.Eventually(async () => (await TestCluster.SsctlAsync(Cluster.Nodes[0], "cluster show")).Output,
                show => show.Contains("Count: 4 nodes") && !show.Contains("Joining") && !show.Contains("Down"), TimeSpan.FromSeconds(60));
            var rejoinedAt = load.Now;
            await Task.Delay(3000);
            await load.StopAsync(TimeSpan.FromSeconds(10));
            return new Fault(at, healedAt, rejoinedAt);
        }

        /// <summary>Clients spread by the balancer; one closed resumes through it, as behind any load balancer.</summary>
        public Task<ChatLoad> StartLoadAsync() =>
            ChatLoad.StartAsync([Balancer.WebSocketUri], clients: 20, rooms: 4, interval: TimeSpan.FromMilliseconds(400), resume: true);

        public async ValueTask DisposeAsync()
        {
            await Balancer.DisposeAsync();
            await Cluster.DisposeAsync();
            await Database.DisposeAsync();
            await Hosts.DisposeAsync();
        }
    }

    [Fact]
    public async Task Frontends_cut_from_each_other_keep_one_serving_and_the_other_asks_its_clients_to_move_and_starts_over()
    {
        await using var deployment = await Deployment.StartAsync();
        await using var load = await deployment.StartLoadAsync();
        await Task.Delay(3000);

        // The downed frontend, started over, is a member again before the load stops.
        var (cutAt, healedAt, rejoinedAt) = await deployment.CutForTwentySecondsAsync(load,
            hosts => hosts.Cut(deployment.Frontend1, deployment.Frontend2), hosts => hosts.Heal(deployment.Frontend1, deployment.Frontend2));

        var frontends = deployment.Cluster.Nodes.Where(n => n.Name.StartsWith("frontend")).ToList();
        var downed = frontends.Where(f => f.Output.Contains("This frontend was downed by the cluster")).ToList();
        var resumes = load.Clients.SelectMany(c => c.Resumes).ToList();
        var closedAt = resumes.Select(r => r.ClosedAt).DefaultIfEmpty().ToList();
        var resumedAt = resumes.Select(r => r.ResumedAt).DefaultIfEmpty().ToList();
        output.WriteLine($"cut at {cutAt.TotalSeconds:F1} s, healed at {healedAt.TotalSeconds:F1} s; downed: {string.Join(", ", downed.Select(f => f.Name))}; "
            + $"clients moved: {resumes.Count} (closes: {string.Join(", ", resumes.GroupBy(r => r.Close).Select(g => $"{g.Key} x{g.Count()}"))}; "
            + $"closed from {closedAt.Min().TotalSeconds:F1} to {closedAt.Max().TotalSeconds:F1} s, "
            + $"resumed from {resumedAt.Min().TotalSeconds:F1} to {resumedAt.Max().TotalSeconds:F1} s)");
        output.WriteLine($"longest round trip during the cut: {load.LongestRoundTrip(cutAt, healedAt).TotalMilliseconds:F0} ms "
            + $"({load.SlowestClient(cutAt, healedAt)}); after the heal: {load.LongestRoundTrip(healedAt, load.Now).TotalMilliseconds:F0} ms; "
            + $"rejoined {(rejoinedAt - healedAt).TotalSeconds:F1} s after the heal; messages sent: {load.Clients.Sum(c => c.Sent.Count)}");

        Assert.All(frontends, f => Assert.False(f.HasExited, $"{f.Name} exited:\n{f.Output}"));
        Assert.Single(downed);
        Assert.NotEmpty(resumes);
        Assert.All(resumes, r => Assert.Equal("1012", r.Close));
        load.AssertNothingLost(allowGaps: true);
        await load.AssertRoomsHoldEverySentMessageOnce(deployment.Balancer.WebSocketUri);
    }

    [Fact]
    public async Task A_backend_cut_off_from_every_other_host_is_replaced_by_the_other_and_rejoins_after_the_heal()
    {
        // Formed through Cluster Bootstrap: the backend that starts over finds the cluster again the same way.
        await using var deployment = await Deployment.StartAsync(bootstrap: true);
        await using var load = await deployment.StartLoadAsync();
        await Task.Delay(3000);

        var isolated = deployment.Cluster.Nodes.Single(n => n.Host == deployment.Backend2);
        var (cutAt, healedAt, rejoinedAt) = await deployment.CutForTwentySecondsAsync(load,
            hosts => hosts.Isolate(deployment.Backend2), hosts => hosts.Rejoin(deployment.Backend2));

        output.WriteLine($"cut off at {load.WallClock(cutAt)} UTC; longest round trip while the backend was cut off: {load.LongestRoundTrip(cutAt, healedAt).TotalMilliseconds:F0} ms "
            + $"({load.SlowestClient(cutAt, healedAt)}; its rooms wait until it is downed and their shards start on the other backend); after the heal: "
            + $"{load.LongestRoundTrip(healedAt, load.Now).TotalMilliseconds:F0} ms; a member again {(rejoinedAt - healedAt).TotalSeconds:F1} s "
            + $"after the heal; messages sent: {load.Clients.Sum(c => c.Sent.Count)}; clients moved: {load.Clients.Sum(c => c.Resumes.Count)}");

        await CatchUp(load);

        Assert.False(isolated.HasExited, $"{isolated.Name} exited:\n{isolated.Output}");
        Assert.Contains("This node was downed by the cluster; starting over.", isolated.Output);
        Assert.Contains("Initiating new cluster, self-joining", deployment.Cluster.Nodes[0].Output);
        Assert.True(Regex.Matches(isolated.Output, "Initiating bootstrap procedure").Count >= 2, "the backend did not bootstrap again");
        Assert.Empty(load.Clients.SelectMany(c => c.Resumes));
        load.AssertNothingLost(allowGaps: true);
        await load.AssertRoomsHoldEverySentMessageOnce(deployment.Balancer.WebSocketUri);
    }

    [Fact]
    public async Task A_link_cut_between_a_frontend_and_a_backend_downs_the_backend_and_the_frontend_keeps_its_clients()
    {
        await using var deployment = await Deployment.StartAsync();
        await using var load = await deployment.StartLoadAsync();
        await Task.Delay(3000);

        var backend = deployment.Cluster.Nodes.Single(n => n.Host == deployment.Backend1);
        var (cutAt, healedAt, rejoinedAt) = await deployment.CutForTwentySecondsAsync(load,
            hosts => hosts.Cut(deployment.Frontend1, deployment.Backend1), hosts => hosts.Heal(deployment.Frontend1, deployment.Backend1));

        var frontends = deployment.Cluster.Nodes.Where(n => n.Name.StartsWith("frontend")).ToList();
        output.WriteLine($"longest round trip during the cut: {load.LongestRoundTrip(cutAt, healedAt).TotalMilliseconds:F0} ms "
            + $"({load.SlowestClient(cutAt, healedAt)}); after the heal: {load.LongestRoundTrip(healedAt, load.Now).TotalMilliseconds:F0} ms; "
            + $"the backend a member again {(rejoinedAt - healedAt).TotalSeconds:F1} s after the heal; messages sent: {load.Clients.Sum(c => c.Sent.Count)}; "
            + $"clients moved: {load.Clients.Sum(c => c.Resumes.Count)}");
        await CatchUp(load);

        Assert.Contains("This node was downed by the cluster; starting over.", backend.Output);
        Assert.All(frontends, f => Assert.DoesNotContain("This frontend was downed by the cluster", f.Output));
        Assert.Empty(load.Clients.SelectMany(c => c.Resumes));
        load.AssertNothingLost(allowGaps: true);
        await load.AssertRoomsHoldEverySentMessageOnce(deployment.Balancer.WebSocketUri);
    }

    [Fact]
    public async Task The_journal_unreachable_for_ten_seconds_holds_the_frames_and_loses_nothing()
    {
        await using var deployment = await Deployment.StartAsync();
        var (hosts, cluster) = (deployment.Hosts, deployment.Cluster);
        await using var load = await deployment.StartLoadAsync();
        await Task.Delay(3000);

        var cutAt = load.Now;
        await hosts.Isolate(deployment.DatabaseHost);
        await Task.Delay(TimeSpan.FromSeconds(10));
        await hosts.Rejoin(deployment.DatabaseHost);
        var healedAt = load.Now;
        await Task.Delay(TimeSpan.FromSeconds(15));
        await load.StopAsync(TimeSpan.FromSeconds(20));

        output.WriteLine($"longest round trip with the journal unreachable: {load.LongestRoundTrip(cutAt, healedAt).TotalMilliseconds:F0} ms; "
            + $"after: {load.LongestRoundTrip(healedAt, load.Now).TotalMilliseconds:F0} ms; messages sent: {load.Clients.Sum(c => c.Sent.Count)}");
        await CatchUp(load);
        Assert.Empty(load.Clients.SelectMany(c => c.Resumes));
        load.AssertNothingLost(allowGaps: true);
        await load.AssertRoomsHoldEverySentMessageOnce(deployment.Balancer.WebSocketUri);
    }

    [Fact]
    public async Task A_frontend_drained_and_restarted_behind_the_balancer_moves_its_clients_to_the_other_with_nothing_lost()
    {
        // Through Cluster Bootstrap: the restarted frontend is the lowest contact point, and must join the cluster the
        // other reports rather than form a second one.
        await using var deployment = await Deployment.StartAsync(bootstrap: true);
        var cluster = deployment.Cluster;
        await using var load = await deployment.StartLoadAsync();
        await Task.Delay(3000);

        var frontend = cluster.Nodes[0];
        var drainedAt = load.Now;
        var (exitCode, drained) = await TestCluster.SsctlAsync(frontend, "frontend drain");
        Assert.True(exitCode == 0, drained);
        frontend.Terminate();
        Assert.True(await frontend.WaitForExitAsync(TimeSpan.FromSeconds(15)), $"{frontend.Name} did not stop within 15 s of SIGTERM");
        var restarted = cluster.RestartFrontend(0, frontend);
        await TestCluster.Eventually(async () => (await TestCluster.SsctlAsync(restarted, "cluster show")).Output,
            show => show.Contains("Count: 4 nodes") && !show.Contains("Joining"), TimeSpan.FromSeconds(60));
        var backAt = load.Now;
        await Task.Delay(3000);
        await load.StopAsync(TimeSpan.FromSeconds(10));

        var resumes = load.Clients.SelectMany(c => c.Resumes).ToList();
        output.WriteLine($"{drained}; clients moved: {resumes.Count} (closes: {string.Join(", ", resumes.GroupBy(r => r.Close).Select(g => $"{g.Key} x{g.Count()}"))}); "
            + $"longest round trip around the drain and restart: {load.LongestRoundTrip(drainedAt, backAt).TotalMilliseconds:F0} ms; "
            + $"the restarted frontend a member again {(backAt - drainedAt).TotalSeconds:F1} s after the drain");
        Assert.NotEmpty(resumes);
        Assert.All(resumes, r => Assert.Equal("1012", r.Close));
        Assert.Contains("Initiating bootstrap procedure", restarted.Output);
        Assert.DoesNotContain("Initiating new cluster", restarted.Output);
        load.AssertNothingLost(allowGaps: true);
        await load.AssertRoomsHoldEverySentMessageOnce(deployment.Balancer.WebSocketUri);
    }

    [Fact]
    public async Task Delay_and_loss_between_every_host_for_thirty_seconds_slow_the_chat_but_lose_nothing()
    {
        await using var deployment = await Deployment.StartAsync();
        await using var load = await deployment.StartLoadAsync();
        await Task.Delay(3000);

        var slowAt = load.Now;
        await deployment.Hosts.Slow(delayMs: 100, lossPercent: 1);
        await Task.Delay(TimeSpan.FromSeconds(30));
        await deployment.Hosts.Fast();
        var fastAt = load.Now;
        await Task.Delay(TimeSpan.FromSeconds(10));
        await load.StopAsync(TimeSpan.FromSeconds(20));

        var during = load.Clients.SelectMany(c => c.RoundTrips).Where(r => r.SentAt >= slowAt && r.SentAt < fastAt)
            .Select(r => r.Took.TotalMilliseconds).Order().ToList();
        output.WriteLine($"100 ms each way and 1% loss between hosts for 30 s: {during.Count} messages came back, "
            + $"p50 {during[during.Count / 2]:F0} ms, longest {during[^1]:F0} ms; after: longest "
            + $"{load.LongestRoundTrip(fastAt, load.Now).TotalMilliseconds:F0} ms; clients moved: {load.Clients.Sum(c => c.Resumes.Count)}; "
            + $"refused rate_limited and sent again: {load.Clients.Sum(c => c.RateLimited)} of {load.Clients.Sum(c => c.Sent.Count)} messages");
        await CatchUp(load);
        Assert.NotEmpty(during);
        load.AssertNothingLost(allowGaps: true);
        await load.AssertRoomsHoldEverySentMessageOnce(deployment.Balancer.WebSocketUri);
    }

    /// <summary>
    /// A batch persisted but not delivered (its backend cut off, or the journal's answer lost after the commit) is a
    /// gap in a client's stream, which clients fill with <c>since</c> as after a crash (docs/protocol.md).
    /// </summary>
    private async Task CatchUp(ChatLoad load)
    {
        var gaps = load.Clients.Sum(c => c.Gaps.Count);
        foreach (var client in load.Clients) await client.CatchUpAsync();
        await Task.Delay(3000);
        output.WriteLine($"gaps filled by since: {gaps}");
    }
}
