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

    [Fact]
    public void Contact_points_replace_the_seeds_and_cannot_be_combined_with_them()
    {
        var settings = Read(("AKKA_BOOTSTRAP_CONTACT_POINTS", "10.0.0.11:9110, 10.0.0.12:9110"));
        Assert.Equal(["10.0.0.11:9110", "10.0.0.12:9110"], settings.ContactPoints);
        Assert.Empty(settings.Seeds);

        Assert.Contains("not both", Assert.Throws<SettingException>(() =>
            Read(("AKKA_BOOTSTRAP_CONTACT_POINTS", "10.0.0.11:9110"), ("AKKA_SEEDS", "10.0.0.11:4053"))).Message);
        Assert.Contains("'10.0.0.11' is not a host:port", Assert.Throws<SettingException>(() =>
            Read(("AKKA_BOOTSTRAP_CONTACT_POINTS", "10.0.0.11"))).Message);
    }
}
