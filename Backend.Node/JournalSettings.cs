using System.Data.Common;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using LinqToDB;
using LinqToDB.Interceptors;
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
    /// <summary>The journal and snapshot store on <paramref name="journal"/>'s database, with the tunables of
    /// <c>hocon/</c> that fit it.</summary>
    public static AkkaConfigurationBuilder WithJournal(
        this AkkaConfigurationBuilder builder, JournalSettings journal, Action<AkkaPersistenceJournalBuilder> journalBuilder)
    {
        builder.AddTunables("journal.conf");
        if (!journal.IsSqlite) return builder.WithSqlPersistence(journal.ConnectionString, journal.ProviderName, journalBuilder: journalBuilder);
        var options = new DataOptions()
            .UseConnectionString(journal.ProviderName, journal.ConnectionString)
            .UseInterceptor(new SqliteBusyTimeout());
        return builder.WithSqlPersistence(options, journalBuilder: journalBuilder).AddTunables("journal-sqlite.conf");
    }

    /// <summary>
    /// A connection that finds the file locked by another writer (the snapshot store beside the journal, another
    /// backend process on the same file) lets SQLite retry it within milliseconds, for as long as the connection's
    /// default timeout (<see cref="JournalSettings.Prepare"/>). Without a busy timeout SQLite answers "busy" at once
    /// and Microsoft.Data.Sqlite sleeps 150 ms before each retry: a journal write that met a snapshot being saved
    /// held every post of its batch that long.
    /// </summary>
    private sealed class SqliteBusyTimeout : ConnectionInterceptor
    {
        public override void ConnectionOpened(ConnectionEventData eventData, DbConnection connection)
        {
            using var command = Pragma(connection);
            command.ExecuteNonQuery();
        }

        public override async Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
        {
            await using var command = Pragma(connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        private static DbCommand Pragma(DbConnection connection)
        {
            var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout = {((SqliteConnection)connection).DefaultTimeout * 1000};";
            return command;
        }
    }
}
