using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>
/// Nodes on separate hosts (network namespaces, tests/hosts/netns.sh) with chat load running, links between them cut
/// and healed; every client must see every message once, in order, and the rooms must hold each sent message once.
/// </summary>
public sealed class NetworkPartitionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Two frontends, two backends, each on its own host; the frontends are every node's seeds.</summary>
    private static async Task<(NetworkHosts Hosts, TestCluster Cluster)> StartAsync()
    {
        var hosts = await NetworkHosts.CreateAsync(4);
        var (fe1, fe2) = (hosts.Hosts[0], hosts.Hosts[1]);
        var cluster = TestCluster.Create(new() { ["AKKA_SEEDS"] = $"{fe1.Address}:4053,{fe2.Address}:4053" });
        try
        {
            cluster.StartFrontend(fe1);
            cluster.StartFrontend(fe2);
            cluster.StartBackend(host: hosts.Hosts[2]);
            cluster.StartBackend(host: hosts.Hosts[3]);
            await cluster.WaitUntilServingAsync();
            return (hosts, cluster);
        }
        catch
        {
            await cluster.DisposeAsync();
            await hosts.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Frontends_cut_from_each_other_keep_one_serving_and_the_other_asks_its_clients_to_move_and_starts_over()
    {
        var (hosts, cluster) = await StartAsync();
        await using var _ = hosts;
        await using var __ = cluster;
        await using var load = await ChatLoad.StartAsync(cluster.WebSocketUris, clients: 20, rooms: 4,
            interval: TimeSpan.FromMilliseconds(400), resume: true);
        await Task.Delay(3000);

        var cutAt = load.Now;
        await hosts.Cut(hosts.Hosts[0], hosts.Hosts[1]);
        await Task.Delay(TimeSpan.FromSeconds(20));
        await hosts.Heal(hosts.Hosts[0], hosts.Hosts[1]);
        var healedAt = load.Now;

        // The downed frontend, started over, is a member again.
        var frontends = cluster.Nodes.Where(n => n.Name.StartsWith("frontend")).ToList();
        await TestCluster.Eventually(async () => (await TestCluster.SsctlAsync(frontends[0], "cluster show")).Output,
            show => show.Contains("Count: 4 nodes") && !show.Contains("Joining") && !show.Contains("Down"), TimeSpan.FromSeconds(60));
        var rejoinedAt = load.Now;
        await Task.Delay(3000);
        await load.StopAsync(TimeSpan.FromSeconds(10));

        var downed = frontends.Where(f => f.Output.Contains("This frontend was downed by the cluster")).ToList();
        var resumes = load.Clients.SelectMany(c => c.Resumes).ToList();
        output.WriteLine($"downed: {string.Join(", ", downed.Select(f => f.Name))}; clients moved: {resumes.Count} "
            + $"(closes: {string.Join(", ", resumes.GroupBy(r => r.Close).Select(g => $"{g.Key} x{g.Count()}"))})");
        output.WriteLine($"longest round trip during the cut: {load.LongestRoundTrip(cutAt, healedAt).TotalMilliseconds:F0} ms; "
            + $"after the heal: {load.LongestRoundTrip(healedAt, load.Now).TotalMilliseconds:F0} ms; "
            + $"rejoined {(rejoinedAt - healedAt).TotalSeconds:F1} s after the heal; messages sent: {load.Clients.Sum(c => c.Sent.Count)}");

        Assert.All(frontends, f => Assert.False(f.HasExited, $"{f.Name} exited:\n{f.Output}"));
        Assert.Single(downed);
        Assert.NotEmpty(resumes);
        Assert.All(resumes, r => Assert.Equal("1012", r.Close));
        load.AssertNothingLost(allowGaps: true);
        var serving = cluster.WebSocketUris[frontends.IndexOf(frontends.Single(f => !downed.Contains(f)))];
        await load.AssertRoomsHoldEverySentMessageOnce(serving);
    }
}
