using Microsoft.Extensions.Configuration;
using Npgsql;
using SocketStarter.Backend;

namespace SocketStarter.Tests;

public sealed class JournalSettingsSpec
{
    private static JournalSettings Prepared(string connectionString) => JournalSettings.FromConfiguration(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["JOURNAL_PROVIDER"] = "PostgreSQL15",
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
}
