namespace SocketStarter.EndToEnd;

/// <summary>
/// A private PostgreSQL server (hosts/postgres.sh) in a temporary folder on a free port, or on a network host;
/// stopped by its PID and deleted when the test ends, whatever happened.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly string Script = Path.Combine(TestCluster.RepoRoot, "hosts", "postgres.sh");
    private readonly string _folder;
    private int _pid;

    public string Address { get; }
    public int Port { get; }
    public NetworkHost? Host { get; }

    /// <summary>The journal settings a backend needs for this server.</summary>
    public Dictionary<string, string> JournalEnvironment => new()
    {
        ["JOURNAL_PROVIDER"] = "PostgreSQL15",
        ["JOURNAL_CONNECTION_STRING"] = $"Host={Address};Port={Port};Username=postgres;Database=postgres;Timeout=5",
    };

    private PostgresServer(string folder, string address, int port, NetworkHost? host)
    {
        _folder = folder;
        Address = address;
        Port = port;
        Host = host;
    }

    public const string Sqlite = "SQLite";
    public const string PostgreSql = "PostgreSQL";

    /// <summary>For a test run against each journal: a server for <see cref="PostgreSql"/>, none for <see cref="Sqlite"/>.</summary>
    public static async Task<PostgresServer?> ForJournalAsync(string journal) => journal switch
    {
        Sqlite => null,
        PostgreSql => await StartAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(journal), journal, "SQLite or PostgreSQL"),
    };

    public static async Task<PostgresServer> StartAsync(NetworkHost? host = null)
    {
        var parent = Directory.CreateTempSubdirectory("socketstarter-pg-").FullName;
        // The server runs as the postgres user, which must reach its data folder inside.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var server = new PostgresServer(Path.Combine(parent, "data"), host?.Address ?? "127.0.0.1",
            host is null ? TestCluster.FreePort() : 5432, host);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server (again, after <see cref="Kill"/>) on its data folder.</summary>
    public async Task StartAgainAsync()
    {
        string[] arguments = Host is null
            ? ["start", _folder, Port.ToString(), Address]
            : ["start", _folder, Port.ToString(), Address, Host.Namespace];
        var (exitCode, output) = await TestCluster.RunAsync(Script, arguments);
        if (exitCode != 0) throw new InvalidOperationException($"PostgreSQL did not start: {output}");
        _pid = int.Parse(output.Split('\n')[^1].Trim());
    }

    /// <summary>SIGKILL of the server's main process: the database is gone at once, as in a crash.</summary>
    public void Kill()
    {
        if (_pid > 0) System.Diagnostics.Process.Start("kill", ["-KILL", _pid.ToString()])!.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        // Fast shutdown by PID (SIGINT), then whatever is left of it.
        if (_pid > 0) System.Diagnostics.Process.Start("kill", ["-INT", _pid.ToString()])!.WaitForExit();
        for (var i = 0; i < 50 && File.Exists(Path.Combine(_folder, "postmaster.pid")); i++) await Task.Delay(100);
        Kill();
        // KEEP_TEST_LOGS=1 keeps the server's log (lock waits, cut connections) beside the nodes' for a post-mortem.
        if (TestCluster.KeepLogs && File.Exists(Path.Combine(_folder, "server.log")))
        {
            var kept = Path.Combine(Path.GetTempPath(), $"socketstarter-postgres-{DateTime.UtcNow:HHmmss}.log");
            File.Copy(Path.Combine(_folder, "server.log"), kept);
            Console.WriteLine($"PostgreSQL log kept in {kept}");
        }
        try { Directory.Delete(Path.GetDirectoryName(_folder)!, recursive: true); } catch (IOException) { }
    }
}
