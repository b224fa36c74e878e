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

    /// <summary>
    /// SQLite: create the file's folder, switch the file to write-ahead logging so that several backend
    /// processes on one host can share it, and wait for locks rather than fail.
    /// </summary>
    public JournalSettings Prepare()
    {
        if (IsPostgres) return WithIdleInTransactionTimeout();
        if (!IsSqlite) return this;
        var builder = new SqliteConnectionStringBuilder(ConnectionString) { DefaultTimeout = 30 };
        if (Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { } folder) Directory.CreateDirectory(folder);
        using (var connection = new SqliteConnection(builder.ConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            command.ExecuteNonQuery();
        }
        return this with { ConnectionString = builder.ConnectionString };
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
    /// <summary>The journal tunables of <c>hocon/</c> that fit this database.</summary>
    public static AkkaConfigurationBuilder WithJournalTuning(this AkkaConfigurationBuilder builder, JournalSettings journal)
    {
        builder.AddTunables("journal.conf");
        return journal.IsSqlite ? builder.AddTunables("journal-sqlite.conf") : builder;
    }
}
