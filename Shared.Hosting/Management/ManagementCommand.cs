using Akka.Actor;

namespace SocketStarter.Shared.Hosting.Management;

/// <summary>A management command with pbm's syntax, parsed from one command line.</summary>
public abstract record ManagementCommand
{
    public sealed record ClusterShow : ManagementCommand;
    public sealed record ClusterStatus : ManagementCommand;
    public sealed record ClusterLeader : ManagementCommand;
    public sealed record ClusterLeave(Address? Address) : ManagementCommand;
    public sealed record ClusterJoin(Address Address) : ManagementCommand;
    public sealed record ClusterDown(Address Address) : ManagementCommand;
    public sealed record ClusterDownUnreachable : ManagementCommand;
    public sealed record ClusterTail : ManagementCommand;
    public sealed record ShardingRegions : ManagementCommand;
    public sealed record RegionStats(string TypeName) : ManagementCommand;
    public sealed record ShardStats(string TypeName) : ManagementCommand;
    public sealed record ActorSystemInfo : ManagementCommand;
    public sealed record ActorHierarchy(int Depth) : ManagementCommand;
    public sealed record Help : ManagementCommand;
    public sealed record SessionsCount : ManagementCommand;
    public sealed record TopicsList : ManagementCommand;
    public sealed record FrontendDrain : ManagementCommand;
    public sealed record FrontendUndrain : ManagementCommand;

    public const int DefaultHierarchyDepth = 3;

    /// <summary>Every command line the host understands, for <c>help</c> and for errors.</summary>
    public static readonly IReadOnlyList<(string Syntax, string Description)> Usage =
    [
        ("cluster show", "every member: address | [roles] | status | unreachable | version"),
        ("cluster status", "this node's membership status"),
        ("cluster leader", "the current leader"),
        ("cluster leave [address]", "gracefully remove this node, or the node at address"),
        ("cluster join <address>", "join this node to the cluster at address"),
        ("cluster down -a <address>", "mark the node at address as down"),
        ("cluster down-unreachable", "down every unreachable node"),
        ("cluster tail", "membership events as they happen, until Ctrl-C"),
        ("cluster-sharding regions", "the sharded entity types"),
        ("cluster-sharding region-stats -r <type>", "shards and entities per region of a type"),
        ("cluster-sharding shard-stats -r <type>", "entities per shard of a type"),
        ("actor system", "this node's actor system"),
        ("actor hierarchy [-d depth]", $"the actor tree of this node (default depth {DefaultHierarchyDepth})"),
        ("sessions count", "live client sessions in the cluster"),
        ("topics list", "active topics (application/topic) with their member counts"),
        ("frontend drain", "stop accepting connections here; ask this frontend's clients to resume elsewhere"),
        ("frontend undrain", "accept connections here again"),
        ("help", "this list"),
    ];

    public static ManagementCommand Parse(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0) throw new CommandException("No command given; try 'help'.");
        var options = new Options(words);
        ManagementCommand command = (words[0], words.ElementAtOrDefault(1)) switch
        {
            ("cluster", "show") => new ClusterShow(),
            ("cluster", "status") => new ClusterStatus(),
            ("cluster", "leader") => new ClusterLeader(),
            ("cluster", "leave") => new ClusterLeave(options.OptionalPositional(2) is { } a ? ParseAddress(a) : null),
            ("cluster", "join") => new ClusterJoin(ParseAddress(options.Positional(2, "address"))),
            ("cluster", "down") => new ClusterDown(ParseAddress(options.Flag("-a", "address"))),
            ("cluster", "down-unreachable") => new ClusterDownUnreachable(),
            ("cluster", "tail") => new ClusterTail(),
            ("cluster-sharding", "regions") => new ShardingRegions(),
            ("cluster-sharding", "region-stats") => new RegionStats(options.Flag("-r", "type")),
            ("cluster-sharding", "shard-stats") => new ShardStats(options.Flag("-r", "type")),
            ("actor", "system") => new ActorSystemInfo(),
            ("actor", "hierarchy") => new ActorHierarchy(options.OptionalFlag("-d") is { } d
                ? int.TryParse(d, out var depth) && depth > 0 ? depth : throw new CommandException($"-d wants a depth of 1 or more, got '{d}'.")
                : DefaultHierarchyDepth),
            ("sessions", "count") => new SessionsCount(),
            ("topics", "list") => new TopicsList(),
            ("frontend", "drain") => new FrontendDrain(),
            ("frontend", "undrain") => new FrontendUndrain(),
            ("help", _) => new Help(),
            _ => throw new CommandException($"Unknown command '{string.Join(' ', words.Take(2))}'; try 'help'."),
        };
        options.EnsureAllUsed(command is Help ? words.Length : -1);
        return command;
    }

    /// <summary>Accepts akka.tcp://system@host:port or host:port.</summary>
    public static Address ParseAddress(string text)
    {
        var full = text.Contains("://") ? text : $"akka.tcp://{ClusterNodeSettings.SystemName}@{text}";
        return Address.TryParse(full, out var address) && address.Host is not null && address.Port is not null
            ? address
            : throw new CommandException($"'{text}' is not a node address like akka.tcp://{ClusterNodeSettings.SystemName}@host:port or host:port.");
    }

    /// <summary>Positional words after the verb and <c>-x value</c> flags; anything left over is an error.</summary>
    private sealed class Options(string[] words)
    {
        private readonly HashSet<int> _used = [0, 1];

        public string? OptionalPositional(int index)
        {
            if (index >= words.Length || words[index].StartsWith('-')) return null;
            _used.Add(index);
            return words[index];
        }

        public string Positional(int index, string name) =>
            OptionalPositional(index) ?? throw new CommandException($"'{words[0]} {words[1]}' needs <{name}>.");

        public string? OptionalFlag(string flag)
        {
            var at = Array.IndexOf(words, flag);
            if (at < 0) return null;
            if (at + 1 >= words.Length) throw new CommandException($"{flag} needs a value.");
            _used.Add(at);
            _used.Add(at + 1);
            return words[at + 1];
        }

        public string Flag(string flag, string name) =>
            OptionalFlag(flag) ?? throw new CommandException($"'{words[0]} {words[1]}' needs {flag} <{name}>.");

        public void EnsureAllUsed(int ignoreFrom)
        {
            if (ignoreFrom >= 0) return;
            var extra = Enumerable.Range(0, words.Length).Where(i => !_used.Contains(i)).Select(i => words[i]).ToList();
            if (extra.Count > 0) throw new CommandException($"Unexpected '{string.Join(' ', extra)}' after '{words[0]} {words[1]}'.");
        }
    }
}

/// <summary>A command line that cannot be run: the message is one readable line.</summary>
public sealed class CommandException(string message) : Exception(message);
