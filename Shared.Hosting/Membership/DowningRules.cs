using Akka.Actor;
using Akka.Cluster;

namespace SocketStarter.Shared.Hosting.Membership;

/// <summary>
/// Which members to down when some cannot reach others, decided alike on every node that sees the same
/// observations. The frontends hold every client socket, so the rules keep a serving frontend whatever happens:
/// <list type="number">
/// <item>Members that some member cannot reach and that themselves cannot reach some member are <em>indirectly
/// connected</em> (a cycle in the observations: two frontends cut from each other while the backends see both).
/// Akka's split-brain resolver downs all of them, which took every frontend down. Here as many of them stay as can
/// reach each other and every member that stays: frontends first, each time the one the fewest members cannot reach
/// (then the oldest, then the lowest address); of two members that lost each other, one stays. A role that would be
/// left with no member keeps one of them first.</item>
/// <item>The rest of the unreachable members are the other side of a clean partition (or crashed): the side with
/// more frontends stays; on a tie the side with more members; then the side with the lowest address. The other side
/// is downed: a crashed or cut-off backend never downs a frontend.</item>
/// <item>The only backend is never downed.</item>
/// </list>
/// </summary>
public static class DowningRules
{
    /// <param name="AgeRank">0 for the oldest member (Akka's <c>Member.AgeOrdering</c>), then 1, 2, ...</param>
    public sealed record Node(Address Address, bool IsFrontend, int AgeRank);

    /// <summary>One observation: <paramref name="Observer"/> cannot reach <paramref name="Subject"/> (unreachable or terminated).</summary>
    public sealed record Unreachable(Address Observer, Address Subject);

    /// <summary>The members to down, from the <paramref name="members"/> not yet down or leaving and what they observe.</summary>
    public static IReadOnlySet<Address> Decide(IReadOnlyCollection<Node> members, IReadOnlyCollection<Unreachable> observations)
    {
        var known = members.ToDictionary(member => member.Address);
        var (relevant, subjects) = AmongMembers(members, observations);
        if (subjects.Count == 0) return new HashSet<Address>();

        var indirectlyConnected = relevant.Select(o => o.Observer).Where(subjects.Contains).ToHashSet();
        var cleanlyCut = subjects.Except(indirectlyConnected).ToHashSet();
        var reachable = members.Where(m => !subjects.Contains(m.Address)).ToList();
        var other = cleanlyCut.Select(address => known[address]).ToList();

        var down = new HashSet<Address>(indirectlyConnected);
        var reachableSurvives = cleanlyCut.Count == 0 || Survives(reachable, other);
        down.UnionWith((reachableSurvives ? other : reachable).Select(m => m.Address));

        // Frontends first: they hold the sockets. Then the backends: two backends that lost each other while the
        // frontends see both (one restarted on its old address and the other never accepted its new connection, or
        // two starved of CPU during a rolling deploy) were both downed, and every room and session stalled until
        // they had started over; with three backends, the third was left alone with every shard.
        // A role none of whose members would stay keeps one first (a frontend cut from the only backend goes, not the
        // backend); then as many more as can stay.
        Keep(frontend: true, onlyTheLast: true);
        Keep(frontend: false, onlyTheLast: true);
        Keep(frontend: true, onlyTheLast: false);
        Keep(frontend: false, onlyTheLast: false);

        // The only backend is never downed: no other can take its shards, so downing it only restarts it. A saturated
        // machine (1 frontend + 1 backend at 1000 x 4, then 1000 clients catching up) delayed heartbeats by 2-3 s;
        // the backend was downed as unreachable and every client stalled ~25 s while it started over, where without
        // the downing they stall only as long as the delay. A crashed one is replaced on its address by its restart;
        // one that joins elsewhere makes two backends, and the unreachable one is then downed by the rules above.
        if (members.Count(m => !m.IsFrontend) == 1) down.RemoveWhere(address => !known[address].IsFrontend);
        return down;

        // Keeps indirectly connected members of the role, one at a time, each one the fewest members cannot reach
        // (then the oldest, then the lowest address), as long as it and every member that stays can reach each other:
        // of two that lost each other one stays, and what is left observes nothing unreachable once the rest is down.
        // With onlyTheLast, one at most, and only when no member of the role would stay otherwise.
        void Keep(bool frontend, bool onlyTheLast)
        {
            var staying = members.Where(m => !down.Contains(m.Address)).Select(m => m.Address).ToHashSet();
            if (onlyTheLast && members.Any(m => m.IsFrontend == frontend && staying.Contains(m.Address))) return;
            var candidates = indirectlyConnected.Select(address => known[address])
                .Where(m => m.IsFrontend == frontend && down.Contains(m.Address))
                .OrderBy(m => relevant.Count(o => o.Subject == m.Address))
                .ThenBy(m => m.AgeRank)
                .ThenBy(m => m.Address, Member.AddressOrdering)
                .ToList();
            foreach (var candidate in candidates)
            {
                if (relevant.Any(o => (o.Observer == candidate.Address && staying.Contains(o.Subject))
                                      || (o.Subject == candidate.Address && staying.Contains(o.Observer)))) continue;
                down.Remove(candidate.Address);
                staying.Add(candidate.Address);
                if (onlyTheLast) return;
            }
        }
    }

    /// <summary>
    /// Whether the observations are a whole, clean picture: nobody unreachable observes anyone (no indirectly connected
    /// members), and every member that is not unreachable has observed every one that is. In a clean partition that holds
    /// on a side only once the whole of the other side is observed, by every member of this side: a member across the
    /// cut cannot be counted as having observed anything, as its records do not reach this side. So a decision taken on
    /// a whole picture is the one the other side takes on its own, and waiting longer only guards against a picture
    /// that heals (a member silent for a moment).
    /// </summary>
    public static bool IsWholePicture(IReadOnlyCollection<Node> members, IReadOnlyCollection<Unreachable> observations)
    {
        var (relevant, subjects) = AmongMembers(members, observations);
        if (subjects.Count == 0 || relevant.Any(o => subjects.Contains(o.Observer))) return false;
        return members.Select(member => member.Address).Except(subjects)
            .All(observer => subjects.All(subject => relevant.Contains(new Unreachable(observer, subject))));
    }

    /// <summary>The observations between <paramref name="members"/> (a member already down or gone observes and is
    /// observed no more), and the members they say cannot be reached.</summary>
    private static (List<Unreachable> Relevant, HashSet<Address> Subjects) AmongMembers(
        IReadOnlyCollection<Node> members, IReadOnlyCollection<Unreachable> observations)
    {
        var known = members.Select(member => member.Address).ToHashSet();
        var relevant = observations.Where(o => known.Contains(o.Observer) && known.Contains(o.Subject)).ToList();
        return (relevant, relevant.Select(o => o.Subject).ToHashSet());
    }

    /// <summary>Does side <paramref name="a"/> stay against side <paramref name="b"/>?</summary>
    private static bool Survives(IReadOnlyCollection<Node> a, IReadOnlyCollection<Node> b)
    {
        var frontends = a.Count(m => m.IsFrontend).CompareTo(b.Count(m => m.IsFrontend));
        if (frontends != 0) return frontends > 0;
        if (a.Count != b.Count) return a.Count > b.Count;
        if (b.Count == 0) return true;
        if (a.Count == 0) return false;
        var lowestA = a.Select(m => m.Address).Min(Member.AddressOrdering)!;
        var lowestB = b.Select(m => m.Address).Min(Member.AddressOrdering)!;
        return Member.AddressOrdering.Compare(lowestA, lowestB) < 0;
    }
}
