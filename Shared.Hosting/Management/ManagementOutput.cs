using Akka.Cluster;

namespace SocketStarter.Shared.Hosting.Management;

/// <summary>The text the management commands print, in pbm's shapes.</summary>
public static class ManagementOutput
{
    /// <summary>What <c>cluster show</c> prints of a member.</summary>
    public sealed record MemberRow(string Address, IEnumerable<string> Roles, MemberStatus Status, bool Unreachable, string Version)
    {
        public static MemberRow Of(Member member, bool unreachable) =>
            new(member.Address.ToString(), member.Roles, member.Status, unreachable, member.AppVersion.ToString());
    }

    /// <summary><c>address | [roles] | status | unreachable | version</c> per member, then <c>Count: N nodes</c>.</summary>
    public static string Members(IEnumerable<MemberRow> members)
    {
        var list = members.OrderBy(m => m.Address, StringComparer.Ordinal).ToList();
        return string.Join('\n', list.Select(MemberLine).Append($"Count: {list.Count} nodes"));
    }

    public static string MemberLine(MemberRow member) =>
        $"{member.Address} | [{string.Join(", ", member.Roles.Order(StringComparer.Ordinal))}] | {member.Status.ToString().ToLowerInvariant()} | {member.Unreachable} | {member.Version}";

    /// <summary>One line per region: its address, shards and entities; then the totals.</summary>
    public static string RegionStats(string typeName, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> shardsByRegion)
    {
        var lines = shardsByRegion.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => $"{r.Key} | shards: {r.Value.Count} | entities: {r.Value.Values.Sum()}")
            .ToList();
        lines.Insert(0, $"Region stats for [{typeName}]");
        lines.Add($"Total: {shardsByRegion.Count} regions, {shardsByRegion.Values.Sum(s => s.Count)} shards, {shardsByRegion.Values.Sum(s => s.Values.Sum())} entities");
        return string.Join('\n', lines);
    }

    /// <summary>One line per shard: its id, where it lives, how many entities it has.</summary>
    public static string ShardStats(string typeName, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> shardsByRegion)
    {
        var lines = shardsByRegion
            .SelectMany(r => r.Value.Select(s => (Region: r.Key, Shard: s.Key, Entities: s.Value)))
            .OrderBy(s => int.TryParse(s.Shard, out var n) ? n : int.MaxValue).ThenBy(s => s.Shard, StringComparer.Ordinal)
            .Select(s => $"shard {s.Shard} | {s.Region} | entities: {s.Entities}")
            .ToList();
        lines.Insert(0, $"Shard stats for [{typeName}]");
        lines.Add($"Count: {lines.Count - 1} shards");
        return string.Join('\n', lines);
    }

    public static string Topics(IEnumerable<(string Topic, int Members)> topics)
    {
        var list = topics.OrderBy(t => t.Topic, StringComparer.Ordinal).ToList();
        return string.Join('\n', list.Select(t => $"{t.Topic} | members: {t.Members}").Append($"Count: {list.Count} topics"));
    }

    public static string Help() =>
        string.Join('\n', ManagementCommand.Usage.Select(u => $"{u.Syntax,-44}{u.Description}"));
}
