namespace SocketStarter.EndToEnd;

/// <summary>One frontend and one backend shared by the tests of a class that do not restart nodes.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
