using System.Data.Common;
using SocketStarter.Backend;

namespace SocketStarter.Tests;

/// <summary>How a backend connects to its journal database.</summary>
public sealed class JournalSettingsSpec
{
    private static string PoolSize(JournalSettings settings) =>
        new DbConnectionStringBuilder { ConnectionString = settings.ConnectionString }["Maximum Pool Size"].ToString()!;

    [Fact]
    public void A_postgres_journal_opens_at_most_the_default_pool_unless_told_otherwise()
    {
        var prepared = new JournalSettings("PostgreSQL15", "Host=db;Port=5432;Username=app;Database=chat").Prepare();

        Assert.Equal(JournalSettings.DefaultPostgresPoolSize.ToString(), PoolSize(prepared));
        Assert.Contains("Host=db", prepared.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_pool_size_the_deployer_set_is_kept()
    {
        var prepared = new JournalSettings("PostgreSQL15", "Host=db;Database=chat;Max Pool Size=50").Prepare();

        Assert.Equal("Host=db;Database=chat;Max Pool Size=50", prepared.ConnectionString);
    }
}
