using Akka.Actor;
using Akka.Cluster;
using SocketStarter.Ctl;
using SocketStarter.Shared.Hosting.Management;
using static SocketStarter.Shared.Hosting.Management.ManagementCommand;

namespace SocketStarter.Tests;

public sealed class ManagementCommandSpec
{
    [Theory]
    [InlineData("cluster show", typeof(ClusterShow))]
    [InlineData("  cluster   status ", typeof(ClusterStatus))]
    [InlineData("cluster leader", typeof(ClusterLeader))]
    [InlineData("cluster leave", typeof(ClusterLeave))]
    [InlineData("cluster down-unreachable", typeof(ClusterDownUnreachable))]
    [InlineData("cluster tail", typeof(ClusterTail))]
    [InlineData("cluster-sharding regions", typeof(ShardingRegions))]
    [InlineData("actor system", typeof(ActorSystemInfo))]
    [InlineData("sessions count", typeof(SessionsCount))]
    [InlineData("topics list", typeof(TopicsList))]
    [InlineData("frontend drain", typeof(FrontendDrain))]
    [InlineData("frontend undrain", typeof(FrontendUndrain))]
    [InlineData("help", typeof(Help))]
    public void Parses_pbm_style_verbs(string line, Type expected) => Assert.IsType(expected, Parse(line));

    [Fact]
    public void Parses_arguments_and_flags()
    {
        Assert.Equal(new ClusterLeave(Address.Parse("akka.tcp://socketstarter@10.0.0.5:4053")), Parse("cluster leave 10.0.0.5:4053"));
        Assert.Equal(new ClusterJoin(Address.Parse("akka.tcp://socketstarter@h:1")), Parse("cluster join akka.tcp://socketstarter@h:1"));
        Assert.Equal(new ClusterDown(Address.Parse("akka.tcp://socketstarter@h:2")), Parse("cluster down -a h:2"));
        Assert.Equal(new RegionStats("room"), Parse("cluster-sharding region-stats -r room"));
        Assert.Equal(new ShardStats("session"), Parse("cluster-sharding shard-stats -r session"));
        Assert.Equal(new ActorHierarchy(5), Parse("actor hierarchy -d 5"));
        Assert.Equal(new ActorHierarchy(DefaultHierarchyDepth), Parse("actor hierarchy"));
    }

    [Theory]
    [InlineData("", "No command")]
    [InlineData("cluster dance", "Unknown command 'cluster dance'")]
    [InlineData("cluster join", "needs <address>")]
    [InlineData("cluster down", "needs -a <address>")]
    [InlineData("cluster down -a", "-a needs a value")]
    [InlineData("cluster down -a nowhere", "'nowhere' is not a node address")]
    [InlineData("cluster-sharding region-stats", "needs -r <type>")]
    [InlineData("actor hierarchy -d zero", "-d wants a depth")]
    [InlineData("cluster show please", "Unexpected 'please'")]
    public void Bad_command_lines_get_one_readable_line(string line, string message)
    {
        var error = Assert.Throws<CommandException>(() => Parse(line));
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Cluster_show_prints_a_line_per_member_then_the_count()
    {
        var text = ManagementOutput.Members([
            new ManagementOutput.MemberRow("akka.tcp://socketstarter@127.0.0.1:5000", ["backend"], MemberStatus.Up, true, "1.0.0"),
            new ManagementOutput.MemberRow("akka.tcp://socketstarter@127.0.0.1:4053", ["frontend"], MemberStatus.Up, false, "1.0.0"),
        ]);
        Assert.Equal("""
            akka.tcp://socketstarter@127.0.0.1:4053 | [frontend] | up | False | 1.0.0
            akka.tcp://socketstarter@127.0.0.1:5000 | [backend] | up | True | 1.0.0
            Count: 2 nodes
            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Region_stats_sum_shards_and_entities_per_region()
    {
        var text = ManagementOutput.RegionStats("room", new Dictionary<string, IReadOnlyDictionary<string, int>>
        {
            ["akka.tcp://s@b:2"] = new Dictionary<string, int> { ["1"] = 3, ["7"] = 2 },
            ["akka.tcp://s@a:1"] = new Dictionary<string, int> { ["4"] = 1 },
        });
        Assert.Equal("""
            Region stats for [room]
            akka.tcp://s@a:1 | shards: 1 | entities: 1
            akka.tcp://s@b:2 | shards: 2 | entities: 5
            Total: 2 regions, 3 shards, 6 entities
            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public async Task The_cli_answers_a_typo_itself_and_an_unreachable_node_with_exit_code_2()
    {
        using var http = new HttpClient();
        var output = new StringWriter();
        Assert.Equal(1, await new ManagementClient("127.0.0.1:1", http, token: null).RunAsync("clutser show", output, CancellationToken.None));
        Assert.Contains("Unknown command", output.ToString());

        output = new StringWriter();
        Assert.Equal(2, await new ManagementClient($"127.0.0.1:{FreePort()}", http, token: null).RunAsync("cluster show", output, CancellationToken.None));
        Assert.StartsWith("Cannot reach 127.0.0.1:", output.ToString());
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
