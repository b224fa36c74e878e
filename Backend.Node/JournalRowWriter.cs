using System.Collections.Immutable;
using System.Data.Common;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Journal.Dao;
using Akka.Persistence.Sql.Journal.Types;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace SocketStarter.Backend;

/// <summary>
/// Writes a group commit's journal rows in one transaction with one prepared, parameterized <c>INSERT</c>, into the
/// plugin's own table (its names and columns, read from its configuration), so the plugin reads them back as its own.
/// The plugin's path (linq2db's multi-row bulk copy) built and optimized a new SQL text for every transaction, with
/// each event's bytes written into it as a hex literal, and SQLite parsed that text again: about a third of the bytes
/// the backend allocated per post (docs/profile.md). Only the common shape is written here: the tag-table mode with
/// rows that carry no tags, on SQLite or PostgreSQL; anything else goes the plugin's way (<see cref="For"/>,
/// <see cref="Fits"/>).
/// </summary>
public sealed class JournalRowWriter
{
    private readonly Func<DbConnection> _open;
    private readonly string _insert;
    private readonly bool _writerUuid;
    private readonly bool _isPostgres;
    /// <summary>The plugin's own: the rows are what it would have written.</summary>
    private readonly ByteArrayJournalSerializer _serializer;

    private JournalRowWriter(Func<DbConnection> open, string insert, bool writerUuid, bool isPostgres, ByteArrayJournalSerializer serializer)
    {
        _open = open;
        _insert = insert;
        _writerUuid = writerUuid;
        _isPostgres = isPostgres;
        _serializer = serializer;
    }

    /// <summary>A writer for this journal's table, or null where the plugin's own path must write (other databases or tag modes).</summary>
    public static JournalRowWriter? For(JournalConfig journal, Akka.Serialization.Serialization serialization)
    {
        if (journal.PluginConfig.TagMode != TagMode.TagTable || journal.TableConfig.UseEventManifestColumn) return null;
        var settings = new JournalSettings(journal.ProviderName, journal.ConnectionString);
        if (!settings.IsSqlite && !settings.IsPostgres) return null;

        var table = journal.TableConfig.EventJournalTable;
        var columns = table.ColumnNames;
        var names = new List<string> { columns.Created, columns.Deleted, columns.PersistenceId, columns.SequenceNumber, columns.Message, columns.Manifest, columns.Identifier };
        if (table.UseWriterUuidColumn) names.Add(columns.WriterUuid);
        var target = journal.TableConfig.SchemaName is { Length: > 0 } schema ? $"{Quoted(schema)}.{Quoted(table.Name)}" : Quoted(table.Name);
        // Npgsql binds unnamed parameters by position ($1), Microsoft.Data.Sqlite by name.
        var placeholders = names.Select((_, i) => settings.IsPostgres ? $"${i + 1}" : $"@p{i}");
        var insert = $"INSERT INTO {target} ({string.Join(", ", names.Select(Quoted))}) VALUES ({string.Join(", ", placeholders)})";
        var serializer = new ByteArrayJournalSerializer(journal, serialization, journal.PluginConfig.TagSeparator,
            table.UseWriterUuidColumn ? Guid.NewGuid().ToString("N") : null);
        var connectionString = journal.ConnectionString;
        return settings.IsSqlite
            ? new JournalRowWriter(() => new SqliteConnection(connectionString), insert, table.UseWriterUuidColumn, isPostgres: false, serializer)
            : new JournalRowWriter(() => new NpgsqlConnection(connectionString), insert, table.UseWriterUuidColumn, isPostgres: true, serializer);
    }

    private static string Quoted(string name) => $"\"{name.Replace("\"", "\"\"")}\"";

    /// <summary>Whether every event fits this writer: none is tagged (tags go into the plugin's tag table). Asked
    /// before anything is serialized, so writes that go the plugin's way are serialized once, by the plugin.</summary>
    public static bool Fits(IEnumerable<AtomicWrite> writes) =>
        writes.All(write => write.Payload is not IEnumerable<IPersistentRepresentation> events
            || events.All(e => e.Payload is not Tagged { Tags.Count: > 0 }));

    /// <summary>
    /// The events of these writes in one transaction. Answers one entry per atomic write (the exception that kept it
    /// from being serialized, or null), or null when all were written; faults if the transaction did not commit.
    /// </summary>
    public async Task<IImmutableList<Exception>?> WriteAsync(IReadOnlyList<AtomicWrite> writes)
    {
        var serialized = _serializer.Serialize(writes, DateTime.UtcNow.Ticks);
        var rows = serialized.Where(t => t.Success.HasValue).SelectMany(t => t.Success.Value!).ToList();
        IImmutableList<Exception>? rejected = serialized.Any(t => !t.Success.HasValue)
            ? serialized.Select(t => t.Success.HasValue ? null! : t.Failure.Value).ToImmutableList()
            : null;
        // Off the caller's thread (the journal's): it goes on taking writes (the next group) while this one commits.
        if (rows.Count > 0) await Task.Run(() => WriteRowsAsync(rows));
        return rejected;
    }

    /// <summary>All rows in one transaction; returns once it has committed (and SQLite has synced its log), throws if it did not.</summary>
    private async Task WriteRowsAsync(IReadOnlyList<JournalRow> rows)
    {
        await using var connection = _open();
        await connection.OpenAsync();
        // SQLite: BEGIN IMMEDIATE (the driver's default for a writer), the file's write lock taken at the start.
        await using var transaction = await connection.BeginTransactionAsync();
        if (_isPostgres)
        {
            // One round trip for the whole group.
            await using var batch = ((NpgsqlConnection)connection).CreateBatch();
            batch.Transaction = (NpgsqlTransaction)transaction;
            foreach (var row in rows)
            {
                var command = new NpgsqlBatchCommand(_insert);
                foreach (var value in Values(row)) command.Parameters.Add(new NpgsqlParameter { Value = value });
                batch.BatchCommands.Add(command);
            }
            await batch.ExecuteNonQueryAsync();
        }
        else
        {
            // One statement parsed per transaction, executed once per row: SQLite keeps it prepared in between.
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = _insert;
            var parameters = Values(rows[0]).Select((_, i) =>
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = $"@p{i}";
                command.Parameters.Add(parameter);
                return parameter;
            }).ToArray();
            command.Prepare();
            foreach (var row in rows)
            {
                var i = 0;
                foreach (var value in Values(row)) parameters[i++].Value = value;
                command.ExecuteNonQuery();
            }
        }
        await transaction.CommitAsync();
    }

    private IEnumerable<object> Values(JournalRow row)
    {
        yield return row.Timestamp;
        yield return row.Deleted;
        yield return row.PersistenceId;
        yield return row.SequenceNumber;
        yield return row.Message;
        yield return (object?)row.Manifest ?? DBNull.Value;
        yield return (object?)row.Identifier ?? DBNull.Value;
        if (_writerUuid) yield return (object?)row.WriterUuid ?? DBNull.Value;
    }
}
