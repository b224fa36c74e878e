using Microsoft.Extensions.Configuration;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Tests;

public sealed class ClusterNodeSettingsSpec
{
    private static ClusterNodeSettings Read(params (string Name, string Value)[] variables) => ClusterNodeSettings.FromConfiguration(
        new ConfigurationBuilder().AddInMemoryCollection(variables.ToDictionary(v => v.Name, v => (string?)v.Value)).Build(),
        ClusterNodeSettings.FrontendRole, ClusterNodeSettings.DefaultFrontendPort);

    [Fact]
    public void A_node_starting_over_joins_the_other_seeds_rather_than_itself()
    {
        var settings = Read(("AKKA_HOST", "10.0.0.11"), ("AKKA_SEEDS", "10.0.0.11:4053,10.0.0.12:4053"));
        Assert.Equal(["akka.tcp://socketstarter@10.0.0.12:4053"], settings.StartingOver().Seeds);
    }
}
