using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Npgsql;
using SocketStarter.Backend;

namespace SocketStarter.Tests;

public sealed class JournalSettingsSpec
{
    private static JournalSettings Prepared(string connectionString, string provider = "PostgreSQL15") => JournalSettings.FromConfiguration(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["JOURNAL_PROVIDER"] = provider,
            ["JOURNAL_CONNECTION_STRING"] = connectionString,
        }).Build()).Prepare();

    [Fact]
    public void A_postgres_journal_asks_the_server_to_end_its_sessions_left_inside_a_transaction()
    {
        var prepared = new NpgsqlConnectionStringBuilder(Prepared("Host=db;Username=app;Database=chat").ConnectionString);
        Assert.Equal("-c idle_in_transaction_session_timeout=5000", prepared.Options);
        Assert.Equal("db", prepared.Host);
        Assert.Equal("chat", prepared.Database);
    }

    [Fact]
    public void Server_options_the_operator_passes_are_kept_as_they_are()
    {
        var prepared = new NpgsqlConnectionStringBuilder(Prepared("Host=db;Options=-c statement_timeout=1000").ConnectionString);
        Assert.Equal("-c statement_timeout=1000", prepared.Options);
    }

    private static JournalSettings PreparedSqlite(string file) => Prepared($"Data Source={file}", JournalSettings.SqliteProvider);

    [Fact]
    public void A_sqlite_journal_keeps_its_snapshots_in_a_second_file_both_in_write_ahead_logging()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"journal-{Guid.NewGuid():N}");
        try
        {
            var prepared = PreparedSqlite(Path.Combine(folder, "journal.db"));

            Assert.Equal(Path.Combine(folder, "journal.db"), new SqliteConnectionStringBuilder(prepared.ConnectionString).DataSource);
            Assert.Equal(Path.Combine(folder, "journal-snapshots.db"), new SqliteConnectionStringBuilder(prepared.SnapshotConnectionString).DataSource);
            foreach (var connectionString in new[] { prepared.ConnectionString, prepared.SnapshotConnectionString! })
            {
                using var connection = new SqliteConnection(connectionString);
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA journal_mode;";
                Assert.Equal("wal", command.ExecuteScalar());
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_sqlite_journal_that_already_holds_snapshots_keeps_them_in_its_one_file()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"journal-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "journal.db");
        try
        {
            using (var connection = new SqliteConnection($"Data Source={file}"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "CREATE TABLE snapshot (persistence_id TEXT, sequence_number INTEGER); INSERT INTO snapshot VALUES ('topic-1', 500);";
                command.ExecuteNonQuery();
            }
            Assert.Null(PreparedSqlite(file).SnapshotConnectionString);
            Assert.False(File.Exists(Path.Combine(folder, "journal-snapshots.db")));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_postgres_journal_keeps_its_snapshots_in_the_same_database()
    {
        Assert.Null(Prepared("Host=db;Username=app;Database=chat").SnapshotConnectionString);
    }
}
