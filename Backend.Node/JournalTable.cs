using System.Data.Common;
using Akka.Persistence.Sql.Config;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace SocketStarter.Backend;

/// <summary>
/// The plugin's event journal table as our own SQL reaches it (<see cref="JournalRowWriter"/>,
/// <see cref="JournalRowReader"/>): its quoted name and columns, read from the plugin's configuration, and a fresh
/// connection to its database. Only the common shape is supported: the tag-table mode without the event-manifest
/// column, on SQLite or PostgreSQL; anything else stays on the plugin's own paths.
/// </summary>
public sealed class JournalTable
{
    private readonly Func<DbConnection> _open;

    private JournalTable(JournalConfig journal, bool isPostgres, Func<DbConnection> open)
    {
        _open = open;
        IsPostgres = isPostgres;
        var table = journal.TableConfig.EventJournalTable;
        Columns = table.ColumnNames;
        UsesWriterUuid = table.UseWriterUuidColumn;
        Name = journal.TableConfig.SchemaName is { Length: > 0 } schema ? $"{Quoted(schema)}.{Quoted(table.Name)}" : Quoted(table.Name);
    }

    /// <summary>The table of this journal, or null where only the plugin's own paths may touch it.</summary>
    public static JournalTable? For(JournalConfig journal)
    {
        if (journal.PluginConfig.TagMode != TagMode.TagTable || journal.TableConfig.UseEventManifestColumn) return null;
        var settings = new JournalSettings(journal.ProviderName, journal.ConnectionString);
        var connectionString = journal.ConnectionString;
        if (settings.IsSqlite) return new JournalTable(journal, isPostgres: false, () => new SqliteConnection(connectionString));
        if (settings.IsPostgres) return new JournalTable(journal, isPostgres: true, () => new NpgsqlConnection(connectionString));
        return null;
    }

    public bool IsPostgres { get; }
    /// <summary>The table's name, quoted (with its schema, if one is configured).</summary>
    public string Name { get; }
    public JournalTableColumnNames Columns { get; }
    public bool UsesWriterUuid { get; }

    /// <summary>An open connection; pooled by the driver, so opening one per transaction or query is cheap.</summary>
    public async Task<DbConnection> OpenAsync()
    {
        var connection = _open();
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public static string Quoted(string name) => $"\"{name.Replace("\"", "\"\"")}\"";

    /// <summary>The <paramref name="index"/>th parameter's place in SQL text: Npgsql binds unnamed parameters by position ($1), Microsoft.Data.Sqlite by name.</summary>
    public string Placeholder(int index) => IsPostgres ? $"${index + 1}" : $"@p{index}";

    /// <summary>Adds a parameter for each placeholder, in order, as <see cref="Placeholder"/> names them.</summary>
    public void Bind(DbCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var parameter = command.CreateParameter();
            if (!IsPostgres) parameter.ParameterName = Placeholder(i);
            parameter.Value = values[i];
            command.Parameters.Add(parameter);
        }
    }
}
