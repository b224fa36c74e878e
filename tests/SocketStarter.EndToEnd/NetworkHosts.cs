namespace SocketStarter.EndToEnd;

/// <summary>A host: a network namespace with its own address (made by hosts/netns.sh).</summary>
public sealed record NetworkHost(int Index, string Namespace, string Address);

/// <summary>
/// Hosts on this machine as network namespaces on one bridge, for tests that cut the links between nodes. The
/// namespaces and the bridge are removed when the test ends, whatever happened.
/// </summary>
public sealed class NetworkHosts : IAsyncDisposable
{
    private static readonly string Script = Path.Combine(TestCluster.RepoRoot, "hosts", "netns.sh");
    private readonly string _name;

    public IReadOnlyList<NetworkHost> Hosts { get; }

    private NetworkHosts(string name, IReadOnlyList<NetworkHost> hosts)
    {
        _name = name;
        Hosts = hosts;
    }

    public static async Task<NetworkHosts> CreateAsync(int count)
    {
        var name = $"ss{Environment.ProcessId % 100000}";
        await Run("down", name); // what a crashed run may have left
        var (exitCode, output) = await TestCluster.RunAsync(Script, ["up", name, count.ToString()]);
        if (exitCode != 0)
        {
            await Run("down", name);
            throw new InvalidOperationException($"Could not make network hosts (needs root, iproute2, iptables): {output}");
        }
        var addresses = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new NetworkHosts(name, addresses.Select((address, i) => new NetworkHost(i + 1, $"{name}{i + 1}", address)).ToList());
    }

    /// <summary>The two hosts no longer reach each other (every packet between them dropped, both ways).</summary>
    public Task Cut(NetworkHost a, NetworkHost b) => Run("cut", _name, a.Index.ToString(), b.Index.ToString());

    public Task Heal(NetworkHost a, NetworkHost b) => Run("heal", _name, a.Index.ToString(), b.Index.ToString());

    /// <summary>The host reaches no other host; this machine (the clients) still reaches it.</summary>
    public Task Isolate(NetworkHost host) => Run("isolate", _name, host.Index.ToString());

    public Task Rejoin(NetworkHost host) => Run("rejoin", _name, host.Index.ToString());

    /// <summary>Every packet a host sends to another is held <paramref name="delayMs"/> and <paramref name="lossPercent"/> are dropped.</summary>
    public Task Slow(int delayMs, double lossPercent) =>
        Run("slow", _name, delayMs.ToString(), lossPercent.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public Task Fast() => Run("fast", _name);

    public async ValueTask DisposeAsync() => await Run("down", _name);

    private static async Task Run(params string[] arguments)
    {
        var (exitCode, output) = await TestCluster.RunAsync(Script, arguments);
        if (exitCode != 0 && arguments[0] != "down") throw new InvalidOperationException($"netns.sh {string.Join(' ', arguments)}: {output}");
    }
}
