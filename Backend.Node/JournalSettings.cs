using Akka.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Npgsql;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend;

/// <summary>
/// The event journal and snapshot store, any database Akka.Persistence.Sql (linq2db) supports. The default is an
/// embedded SQLite file under data/; PostgreSQL is JOURNAL_PROVIDER=PostgreSQL15 and its connection string.
/// </summary>
public sealed record JournalSettings(string ProviderName, string ConnectionString)
{
    public const string SqliteProvider = "SQLite.MS";

    public static JournalSettings FromConfiguration(IConfiguration configuration)
    {
        var provider = configuration["JOURNAL_PROVIDER"] is { Length: > 0 } p ? p : SqliteProvider;
        var connectionString = configuration["JOURNAL_CONNECTION_STRING"] is { Length: > 0 } c
            ? c
            : $"Data Source={Path.Combine("data", "socketstarter.db")}";
        return new JournalSettings(provider, connectionString);
    }

    public bool IsSqlite => ProviderName.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase);
    public bool IsPostgres => ProviderName.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// PostgreSQL ends a session that has sat this long inside a transaction. A backend cut off from the database in
    /// the middle of a journal write leaves its transaction open on the server, holding the row locks of the events it
    /// inserted; the backend that takes over the rooms writes the same sequence numbers and waited on those locks until
    /// the cut healed (24 s stalls with a 20 s cut, measured). Rolled back, that write was never acknowledged: nothing
    /// is lost. A healthy journal write is idle between its statements for milliseconds; a takeover comes 5-6 s after
    /// the cut at the earliest (failure detection, stable-after, down-removal-margin).
    /// </summary>
    public static readonly TimeSpan IdleInTransactionTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Where the snapshot store writes, if not to the journal's database: SQLite's second file (<see cref="Prepare"/>).</summary>
    public string? SnapshotConnectionString { get; init; }

    /// <summary>
    /// SQLite: create the file's folder, switch the file to write-ahead logging so that several backend
    /// processes on one host can share it, and wait for locks rather than fail. Snapshots go to a second file
    /// (<c>name-snapshots.db</c>): SQLite has one write lock per file, and a journal write that met a snapshot being
    /// saved waited out Microsoft.Data.Sqlite's 150 ms retry sleep, the slowest seconds of the steady p99. A journal
    /// file that already holds snapshots and has no second file keeps them: the sharding's remembered-entity stores
    /// delete their events up to each snapshot, so moving on without those snapshots would forget entities.
    /// </summary>
    public JournalSettings Prepare()
    {
        if (IsPostgres) return WithIdleInTransactionTimeout();
        if (!IsSqlite) return this;
        var journal = PrepareSqliteFile(ConnectionString);
        var snapshots = new SqliteConnectionStringBuilder(journal);
        snapshots.DataSource = Path.Combine(Path.GetDirectoryName(snapshots.DataSource) ?? "",
            $"{Path.GetFileNameWithoutExtension(snapshots.DataSource)}-snapshots{Path.GetExtension(snapshots.DataSource)}");
        if (!File.Exists(snapshots.DataSource) && HoldsSnapshots(journal)) return this with { ConnectionString = journal };
        return this with { ConnectionString = journal, SnapshotConnectionString = PrepareSqliteFile(snapshots.ConnectionString) };
    }

    /// <summary>The snapshot store's table (Akka.Persistence.Sql's default name) exists in the file and has rows.</summary>
    private static bool HoldsSnapshots(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'snapshot';";
        if (Convert.ToInt64(command.ExecuteScalar()) == 0) return false;
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM snapshot);";
        return Convert.ToInt64(command.ExecuteScalar()) == 1;
    }

    private static string PrepareSqliteFile(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { DefaultTimeout = 30 };
        if (Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { } folder) Directory.CreateDirectory(folder);
        using (var connection = new SqliteConnection(builder.ConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            command.ExecuteNonQuery();
        }
        return builder.ConnectionString;
    }

    /// <summary>PostgreSQL: <see cref="IdleInTransactionTimeout"/> for every journal session, unless the connection
    /// string already passes server options of its own (then it is the operator's to set).</summary>
    private JournalSettings WithIdleInTransactionTimeout()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        if (!string.IsNullOrEmpty(builder.Options)) return this;
        builder.Options = $"-c idle_in_transaction_session_timeout={(int)IdleInTransactionTimeout.TotalMilliseconds}";
        return this with { ConnectionString = builder.ConnectionString };
    }
}

public static class JournalHostingExtensions
{
    /// <summary>The journal tunables of <c>hocon/</c> that fit this database, and on SQLite the snapshot store's own file.</summary>
    public static AkkaConfigurationBuilder WithJournalTuning(this AkkaConfigurationBuilder builder, JournalSettings journal)
    {
        builder.AddTunables("journal.conf");
        if (!journal.IsSqlite) return builder;
        builder.AddTunables("journal-sqlite.conf");
        return journal.SnapshotConnectionString is { } snapshots
            ? builder.AddHocon($"akka.persistence.snapshot-store.sql.connection-string = {Quoted(snapshots)}", HoconAddMode.Prepend)
            : builder;
    }

    private static string Quoted(string value) => $"\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"";
}
