using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SocketStarter.EndToEnd;

/// <summary>
/// Real frontend and backend processes on free ports with their own temporary database, stopped by PID
/// when the test ends, whatever happened.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public static readonly string RepoRoot = FindRepoRoot();
    private static readonly string Configuration =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    private readonly List<NodeProcess> _nodes = new();
    private readonly Dictionary<string, string> _extraEnvironment;
    public string DataFolder { get; } = Directory.CreateTempSubdirectory("socketstarter-test-").FullName;
    /// <summary>The first frontend's Akka port: every node's seed.</summary>
    public int FrontendAkkaPort { get; } = FreePort();
    public List<int> FrontendHttpPorts { get; } = new();
    public List<int> FrontendMqttPorts { get; } = new();
    /// <summary>The address each frontend's HTTP and MQTT ports listen on: 127.0.0.1, or its host's.</summary>
    public List<string> FrontendAddresses { get; } = new();
    public Uri WebSocketUri => WebSocketUris[0];
    public IReadOnlyList<Uri> WebSocketUris =>
        FrontendHttpPorts.Select((port, i) => new Uri($"ws://{FrontendAddresses[i]}:{port}/ws")).ToList();
    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    private TestCluster(Dictionary<string, string> extraEnvironment) => _extraEnvironment = extraEnvironment;

    public static async Task<TestCluster> StartAsync(int backends = 1, int frontends = 1, Dictionary<string, string>? environment = null)
    {
        var cluster = Create(environment);
        try
        {
            for (var i = 0; i < frontends; i++) cluster.StartFrontend();
            for (var i = 0; i < backends; i++) cluster.StartBackend();
            await cluster.WaitUntilServingAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A cluster with no node started yet, for tests that choose the order.</summary>
    public static TestCluster Create(Dictionary<string, string>? environment = null) => new(environment ?? new());

    /// <summary>Starts a frontend on free ports of 127.0.0.1, or on <paramref name="host"/> with the usual ports.</summary>
    public NodeProcess StartFrontend(NetworkHost? host = null)
    {
        FrontendHttpPorts.Add(host is null ? FreePort() : 8080);
        FrontendMqttPorts.Add(host is null ? FreePort() : 1883);
        FrontendAddresses.Add(host?.Address ?? "127.0.0.1");
        var akkaPort = host is not null ? 4053 : FrontendHttpPorts.Count == 1 ? FrontendAkkaPort : FreePort();
        return StartFrontendOn(FrontendHttpPorts.Count - 1, akkaPort, host);
    }

    /// <summary>Starts frontend <paramref name="index"/> again on its old ports once it has stopped, as a redeploy does.</summary>
    public NodeProcess RestartFrontend(int index, NodeProcess stopped)
    {
        if (!stopped.HasExited) throw new InvalidOperationException($"{stopped.Name} is still running");
        _nodes.Remove(stopped);
        return StartFrontendOn(index, stopped.AkkaPort, stopped.Host);
    }

    private NodeProcess StartFrontendOn(int index, int akkaPort, NetworkHost? host)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://{FrontendAddresses[index]}:{FrontendHttpPorts[index]}",
            ["MQTT_PORT"] = FrontendMqttPorts[index].ToString(),
        };
        if (host is not null) environment["MQTT_HOST"] = host.Address;
        return StartNode($"frontend-{index}", "Frontend.Node", "SocketStarter.Frontend.dll", akkaPort, environment, host);
    }

    /// <summary>
    /// Starts a backend on the given Akka port, or a free one (on <paramref name="host"/>: 4054), with the cluster's
    /// environment and <paramref name="environment"/>.
    /// </summary>
    public NodeProcess StartBackend(int? port = null, Dictionary<string, string>? environment = null, NetworkHost? host = null)
    {
        var akkaPort = port ?? (host is null ? FreePort() : 4054);
        return StartNode($"backend-{_nodes.Count}", "Backend.Node", "SocketStarter.Backend.dll", akkaPort, environment ?? new(), host);
    }

    private NodeProcess StartNode(string name, string project, string dll, int akkaPort, Dictionary<string, string> environment,
        NetworkHost? host)
    {
        var managementPort = host is null ? FreePort() : 9110;
        var address = host?.Address ?? "127.0.0.1";
        // A Release build also publishes each node with ReadyToRun images (Directory.Build.targets), as ./run.sh starts them.
        var output = Path.Combine(RepoRoot, project, "bin", Configuration, "net10.0");
        var path = Path.Combine(Configuration == "Release" ? Path.Combine(output, "publish") : output, dll);
        if (!File.Exists(path)) throw new FileNotFoundException($"Build the solution first: {path} is missing");
        // `ip netns exec` execs the node in the host's namespace: the PID is the node's own.
        var info = new ProcessStartInfo(host is null ? "dotnet" : "ip",
            host is null ? [path] : ["netns", "exec", host.Namespace, "dotnet", path])
        {
            WorkingDirectory = DataFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["AKKA_HOST"] = address;
        info.Environment["AKKA_PORT"] = akkaPort.ToString();
        info.Environment["MANAGEMENT_HOST"] = address;
        info.Environment["MANAGEMENT_PORT"] = managementPort.ToString();
        info.Environment["AKKA_SEEDS"] = $"127.0.0.1:{FrontendAkkaPort}";
        info.Environment["JOURNAL_CONNECTION_STRING"] = $"Data Source={Path.Combine(DataFolder, "journal.db")}";
        info.Environment["CLIENT_DIR"] = Path.Combine(RepoRoot, "client", "dist");
        foreach (var (key, value) in _extraEnvironment.Concat(environment)) info.Environment[key] = value;
        var node = new NodeProcess(name, Process.Start(info)!)
        {
            AkkaPort = akkaPort, ManagementPort = managementPort, Host = host,
            // Where a node creates its management token by default: data/ under its working folder.
            ManagementTokenFile = Path.Combine(DataFolder, "data", "management.token"),
        };
        _nodes.Add(node);
        return node;
    }

    /// <summary>Ready when a client of every frontend can register a name end to end, through a backend.</summary>
    public async Task WaitUntilServingAsync()
    {
        foreach (var uri in WebSocketUris) await WaitUntilServingAsync(uri, TimeSpan.FromSeconds(60));
    }

    private async Task WaitUntilServingAsync(Uri uri, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var client = await ChatClient.ConnectAsync(uri);
                // Served means a backend answered, whatever it answered (with authentication on: unauthorized).
                await client.SendAsync(new { type = "join", room = "probe" });
                await client.ExpectAsync("error", TimeSpan.FromSeconds(5));
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                foreach (var node in _nodes.Where(n => n.HasExited))
                    throw new InvalidOperationException($"{node.Name} exited early:\n{node.Output}");
                await Task.Delay(500);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) node.Kill();
        foreach (var node in _nodes) await node.WaitForExitAsync(TimeSpan.FromSeconds(10));
        // KEEP_TEST_LOGS=1 keeps each node's log (and the journal) in the printed folder for a post-mortem.
        if (KeepLogs)
        {
            foreach (var node in _nodes) await File.WriteAllTextAsync(Path.Combine(DataFolder, $"{node.Name}.log"), node.Output);
            Console.WriteLine($"Node logs kept in {DataFolder}");
            return;
        }
        try { Directory.Delete(DataFolder, recursive: true); } catch (IOException) { }
    }

    /// <summary>KEEP_TEST_LOGS=1: what the test started leaves its logs behind for a post-mortem.</summary>
    public static bool KeepLogs => Environment.GetEnvironmentVariable("KEEP_TEST_LOGS") is { Length: > 0 };

    /// <summary>Runs the management CLI against a node, as an operator does; its output and exit code.</summary>
    public static async Task<(int ExitCode, string Output)> SsctlAsync(NodeProcess node, string command)
    {
        var path = Path.Combine(RepoRoot, "Ctl", "bin", Configuration, "net10.0", "ssctl.dll");
        return await RunAsync("dotnet", [path, node.ManagementEndpoint, .. command.Split(' ')],
            new() { ["MANAGEMENT_TOKEN_FILE"] = node.ManagementTokenFile });
    }

    /// <summary>Runs a command to its end: its exit code, and what it wrote to stdout then stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments,
        Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment ?? new()) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output.Trim());
    }

    /// <summary>Reads until <paramref name="done"/> holds or the timeout passes; the last value read.</summary>
    public static async Task<string> Eventually(Func<Task<string>> read, Func<string, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var text = await read();
            if (done(text) || DateTime.UtcNow > deadline) return text;
            await Task.Delay(500);
        }
    }

    /// <summary>
    /// A port nothing listens on now and that this test run has not handed out before: the kernel may offer a port it
    /// just offered (one run gave a frontend's HTTP port equal to its Akka port, and the node could not start).
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
                if (HandedOut.Add(port)) return port;
        }
    }

    private static readonly HashSet<int> HandedOut = new();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SocketStarter.sln"))) return dir.FullName;
        throw new InvalidOperationException("SocketStarter.sln not found above the test folder");
    }
}

/// <summary>A node's process, its output kept for failure messages.</summary>
public sealed class NodeProcess
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public NodeProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        Pid = process.Id;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int Pid { get; }
    public int AkkaPort { get; init; }
    public int ManagementPort { get; init; }
    public string ManagementTokenFile { get; init; } = "";
    /// <summary>The network host it runs on; null: this machine's 127.0.0.1.</summary>
    public NetworkHost? Host { get; init; }
    public string Address => $"akka.tcp://socketstarter@{Host?.Address ?? "127.0.0.1"}:{AkkaPort}";
    public string ManagementEndpoint => $"{Host?.Address ?? "127.0.0.1"}:{ManagementPort}";
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>SIGTERM: a graceful stop, as a deployment does it.</summary>
    public void Terminate()
    {
        if (!_process.HasExited) Process.Start("kill", ["-TERM", Pid.ToString()])!.WaitForExit();
    }

    /// <summary>The process's resident memory now (VmRSS), in bytes.</summary>
    public long ResidentBytes() =>
        long.Parse(File.ReadLines($"/proc/{Pid}/status").First(line => line.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    /// <summary>SIGKILL: a crash.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
