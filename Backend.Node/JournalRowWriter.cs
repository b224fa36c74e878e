using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Journal.Dao;
using Akka.Persistence.Sql.Journal.Types;
using Npgsql;

namespace SocketStarter.Backend;

/// <summary>
/// Writes a group commit's journal rows in one transaction with one prepared, parameterized <c>INSERT</c>, into the
/// plugin's own table (its names and columns, read from its configuration), so the plugin reads them back as its own.
/// The plugin's path (linq2db's multi-row bulk copy) built and optimized a new SQL text for every transaction, with
/// each event's bytes written into it as a hex literal, and SQLite parsed that text again: about a third of the bytes
/// the backend allocated per post (docs/profile.md). Only rows that carry no tags are written here, into a table of
/// the shape <see cref="JournalTable"/> supports; anything else goes the plugin's way (<see cref="JournalTable.For"/>, <see cref="Fits"/>).
/// </summary>
public sealed class JournalRowWriter
{
    private readonly JournalTable _table;
    private readonly string _insert;
    /// <summary>The plugin's own: the rows are what it would have written.</summary>
    private readonly ByteArrayJournalSerializer _serializer;

    private JournalRowWriter(JournalTable table, string insert, ByteArrayJournalSerializer serializer)
    {
        _table = table;
        _insert = insert;
        _serializer = serializer;
    }

    /// <summary>A writer for this journal's table.</summary>
    public static JournalRowWriter For(JournalTable table, JournalConfig journal, Akka.Serialization.Serialization serialization)
    {
        var columns = table.Columns;
        var names = new List<string> { columns.Created, columns.Deleted, columns.PersistenceId, columns.SequenceNumber, columns.Message, columns.Manifest, columns.Identifier };
        if (table.UsesWriterUuid) names.Add(columns.WriterUuid);
        var insert = $"INSERT INTO {table.Name} ({string.Join(", ", names.Select(JournalTable.Quoted))}) " +
                     $"VALUES ({string.Join(", ", names.Select((_, i) => table.Placeholder(i)))})";
        var serializer = new ByteArrayJournalSerializer(journal, serialization, journal.PluginConfig.TagSeparator,
            table.UsesWriterUuid ? Guid.NewGuid().ToString("N") : null);
        return new JournalRowWriter(table, insert, serializer);
    }

    /// <summary>Whether every event fits this writer: none is tagged (tags go into the plugin's tag table). Asked
    /// before anything is serialized, so writes that go the plugin's way are serialized once, by the plugin.</summary>
    public static bool Fits(List<AtomicWrite> writes)
    {
        foreach (var write in writes)
        {
            if (write.Payload is not IImmutableList<IPersistentRepresentation> events) continue;
            for (var i = 0; i < events.Count; i++)
                if (events[i].Payload is Tagged { Tags.Count: > 0 }) return false;
        }
        return true;
    }

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
        await using var connection = await _table.OpenAsync();
        // SQLite: BEGIN IMMEDIATE (the driver's default for a writer), the file's write lock taken at the start.
        await using var transaction = await connection.BeginTransactionAsync();
        if (_table.IsPostgres)
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
            _table.Bind(command, Values(rows[0]).ToArray());
            command.Prepare();
            foreach (var row in rows)
            {
                var i = 0;
                foreach (var value in Values(row)) command.Parameters[i++].Value = value;
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
        if (_table.UsesWriterUuid) yield return (object?)row.WriterUuid ?? DBNull.Value;
    }
}
