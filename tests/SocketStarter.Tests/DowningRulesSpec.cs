using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using SocketStarter.Shared.Hosting.Membership;
using static SocketStarter.Shared.Hosting.Membership.DowningRules;

namespace SocketStarter.Tests;

/// <summary>Who is downed when members cannot reach each other: a frontend must always be left to serve.</summary>
public sealed class DowningRulesSpec
{
    // Started in this order: fe1 is the oldest member, b2 the youngest.
    private static readonly Address Fe1 = new("akka.tcp", "socketstarter", "10.77.0.11", 4053);
    private static readonly Address Fe2 = new("akka.tcp", "socketstarter", "10.77.0.12", 4053);
    private static readonly Address B1 = new("akka.tcp", "socketstarter", "10.77.0.21", 4054);
    private static readonly Address B2 = new("akka.tcp", "socketstarter", "10.77.0.22", 4054);

    private static readonly Node[] Cluster =
    [
        new(Fe1, IsFrontend: true, AgeRank: 0), new(Fe2, IsFrontend: true, AgeRank: 1),
        new(B1, IsFrontend: false, AgeRank: 2), new(B2, IsFrontend: false, AgeRank: 3),
    ];

    private static IReadOnlySet<Address> Down(params (Address Observer, Address Subject)[] observations) =>
        DowningRules.Decide(Cluster, observations.Select(o => new Unreachable(o.Observer, o.Subject)).ToList());

    [Fact]
    public void Two_frontends_cut_from_each_other_lose_only_the_younger()
    {
        Assert.Equal([Fe2], Down((Fe1, Fe2), (Fe2, Fe1)));
    }

    [Fact]
    public void A_frontend_that_more_members_cannot_reach_is_the_one_downed_even_when_older()
    {
        Assert.Equal([Fe1], Down((Fe1, Fe2), (Fe2, Fe1), (B1, Fe1)));
    }

    [Fact]
    public void A_backend_cut_off_from_everyone_is_downed_as_the_majority_sees_it_and_as_it_sees_itself()
    {
        Assert.Equal([B2], Down((Fe1, B2), (Fe2, B2), (B1, B2)));
        Assert.Equal([B2], Down((B2, Fe1), (B2, Fe2), (B2, B1)));
    }

    [Fact]
    public void Crashed_backends_never_take_a_frontend_with_them()
    {
        Assert.Equal([B1, B2], Down((Fe1, B1), (Fe1, B2), (Fe2, B1), (Fe2, B2)).ToHashSet());
    }

    [Fact]
    public void A_frontend_cut_off_from_everyone_is_downed_on_both_sides()
    {
        Assert.Equal([Fe2], Down((Fe1, Fe2), (B1, Fe2), (B2, Fe2)));
        Assert.Equal([Fe2], Down((Fe2, Fe1), (Fe2, B1), (Fe2, B2)));
    }

    [Fact]
    public void Two_even_halves_keep_the_half_with_the_lowest_address_on_both_sides()
    {
        Assert.Equal([Fe2, B2], Down((Fe1, Fe2), (Fe1, B2), (B1, Fe2), (B1, B2)).ToHashSet());
        Assert.Equal([Fe2, B2], Down((Fe2, Fe1), (Fe2, B1), (B2, Fe1), (B2, B1)).ToHashSet());
    }

    [Fact]
    public void A_link_cut_between_a_frontend_and_a_backend_downs_the_backend_and_the_frontend_keeps_its_clients()
    {
        Assert.Equal([B1], Down((Fe1, B1), (B1, Fe1)));
    }

    [Fact]
    public void Of_three_backends_two_that_lost_each_other_lose_only_the_younger()
    {
        var b3 = new Address("akka.tcp", "socketstarter", "10.77.0.23", 4054);
        Node[] cluster = [.. Cluster, new(b3, IsFrontend: false, AgeRank: 4)];
        Assert.Equal([B2], DowningRules.Decide(cluster, [new Unreachable(B1, B2), new Unreachable(B2, B1)]));
    }

    [Fact]
    public void A_link_cut_between_a_frontend_and_the_only_backend_downs_the_frontend_whose_clients_move()
    {
        Node[] cluster = [.. Cluster.Where(m => m.Address != B2)];
        Assert.Equal([Fe1], DowningRules.Decide(cluster, [new Unreachable(Fe1, B1), new Unreachable(B1, Fe1)]));
    }

    [Fact]
    public void The_only_backend_is_never_downed_whoever_cannot_reach_it()
    {
        Node[] pair = [.. Cluster.Where(m => m.Address == Fe1 || m.Address == B1)];
        // Heartbeats delayed both ways (a saturated machine), as each side saw it first, then as both saw it.
        Assert.Empty(DowningRules.Decide(pair, [new Unreachable(Fe1, B1)]));
        Assert.Empty(DowningRules.Decide(pair, [new Unreachable(B1, Fe1)]));
        Assert.Empty(DowningRules.Decide(pair, [new Unreachable(Fe1, B1), new Unreachable(B1, Fe1)]));

        // A backend that joins elsewhere meanwhile takes over: the unreachable one is downed.
        var replacement = new Address("akka.tcp", "socketstarter", "10.77.0.23", 4054);
        Node[] replaced = [.. pair, new(replacement, IsFrontend: false, AgeRank: 2)];
        Assert.Equal([B1], DowningRules.Decide(replaced, [new Unreachable(Fe1, B1), new Unreachable(replacement, B1)]));
    }

    [Fact]
    public void A_member_with_a_bad_link_is_downed_and_the_members_it_lost_stay()
    {
        // B1 lost both frontends and they lost it: B1 alone goes, not the frontends that observed it.
        Assert.Equal([B1], Down((B1, Fe1), (Fe1, B1), (B1, Fe2), (Fe2, B1)));
    }

    [Fact]
    public void Two_backends_that_lost_each_other_while_the_frontends_see_both_lose_only_the_younger()
    {
        Assert.Equal([B2], Down((B1, B2), (B2, B1)));
    }

    [Fact]
    public void Nothing_unreachable_downs_nothing()
    {
        Assert.Empty(Down());
    }

    private static bool Whole(params (Address Observer, Address Subject)[] observations) =>
        DowningRules.IsWholePicture(Cluster, observations.Select(o => new Unreachable(o.Observer, o.Subject)).ToList());

    [Fact]
    public void A_backend_cut_off_is_a_whole_picture_once_every_other_member_has_observed_it_and_so_is_its_own_view()
    {
        Assert.False(Whole((Fe1, B2), (Fe2, B2)));
        Assert.True(Whole((Fe1, B2), (Fe2, B2), (B1, B2)));
        Assert.True(Whole((B2, Fe1), (B2, Fe2), (B2, B1)));
    }

    [Fact]
    public void Half_of_a_clean_partition_observed_is_not_a_whole_picture_as_the_members_across_the_cut_observed_nothing()
    {
        // Fe2 and B2 are cut from Fe1 and B1: until B2 is observed too, B2 counts as a member that has not observed Fe2.
        Assert.False(Whole((Fe1, Fe2), (B1, Fe2)));
        Assert.True(Whole((Fe1, Fe2), (Fe1, B2), (B1, Fe2), (B1, B2)));
    }

    [Fact]
    public void Members_cut_from_each_other_while_others_see_both_are_never_a_whole_picture()
    {
        Assert.False(Whole((Fe1, Fe2), (Fe2, Fe1)));
        Assert.False(Whole((B1, B2), (B2, B1)));
        Assert.False(Whole((Fe1, B1), (B1, Fe1)));
        Assert.False(Whole());
    }

    [Fact]
    public void The_observations_are_read_from_akkas_own_reachability_event()
    {
        var observer = new UniqueAddress(Fe1, 1);
        var subject = new UniqueAddress(Fe2, 2);
        var clusterAssembly = typeof(Akka.Cluster.Cluster).Assembly;
        var reachabilityType = clusterAssembly.GetType("Akka.Cluster.Reachability", throwOnError: true)!;
        var empty = reachabilityType.GetField("Empty", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        var reachability = reachabilityType.GetMethod("Unreachable")!.Invoke(empty, [observer, subject])!;
        var eventType = typeof(ClusterEvent).GetNestedType(ReachabilityRecords.EventTypeName, BindingFlags.NonPublic)!;
        var changed = Activator.CreateInstance(eventType, BindingFlags.Public | BindingFlags.Instance, null, [reachability], null)!;

        Assert.Equal([new Unreachable(Fe1, Fe2)], ReachabilityRecords.Read(changed));
        Assert.Null(ReachabilityRecords.Read(new ClusterEvent.LeaderChanged(Fe1)));
    }
}
