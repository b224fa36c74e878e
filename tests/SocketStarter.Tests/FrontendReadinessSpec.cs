using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using SocketStarter.Gateway.Frontend.Operations;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Tests;

/// <summary>When a frontend takes a connection: a load balancer sends clients only where this says yes, and the
/// WebSocket endpoint refuses (503, before the upgrade) where it says no.</summary>
public sealed class FrontendReadinessSpec() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
    """))
{
    private FrontendReadiness Readiness()
    {
        var registry = ActorRegistry.For(Sys);
        registry.TryRegister<ShardRegions.SessionRegion>(TestActor);
        return new FrontendReadiness(Sys, registry, new FrontendDrain(registry));
    }

    private Cluster UpMember()
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(10));
        return cluster;
    }

    [Fact]
    public void A_frontend_that_has_not_joined_takes_no_connection()
    {
        Assert.Contains("not a cluster member", Readiness().NotAccepting());
    }

    [Fact]
    public void An_up_member_with_its_proxies_takes_connections()
    {
        UpMember();
        Assert.Null(Readiness().NotAccepting());
    }

    [Fact]
    public async Task A_frontend_downed_by_the_others_takes_no_connection_from_the_moment_it_learns_it()
    {
        var cluster = UpMember();
        var readiness = Readiness();
        using var other = Akka.Actor.ActorSystem.Create(Sys.Name, Sys.Settings.Config);
        var otherCluster = Cluster.Get(other);
        otherCluster.Join(cluster.SelfAddress);
        AwaitCondition(() => otherCluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(10));

        otherCluster.Down(cluster.SelfAddress);
        AwaitCondition(() => cluster.IsTerminated, TimeSpan.FromSeconds(10));
        // Its own view still says Up (the cluster shut down on the gossip that downed it and published nothing after;
        // seen here and in a frontend downed by a partition): refused all the same.
        Assert.Contains("not a cluster member", readiness.NotAccepting());
        await other.Terminate();
    }
}
