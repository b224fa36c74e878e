using System.Data.Common;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Sql.Config;

namespace SocketStarter.Backend;

/// <summary>
/// A recovery's two reads, the highest sequence number and the replay, with plain SQL of our own on the plugin's
/// table (<see cref="JournalTable"/>), rows deserialized as the plugin does. The plugin runs each replay as an
/// Akka.Streams graph (one materialized for the replay and one for each batch of rows) and each read as a linq2db
/// query: when a restarted backend recovered its 200 sessions and 10 rooms at once, materializing those graphs and
/// building those queries was the larger part of its CPU (docs/benchmarks.md, "The only backend's recoveries").
/// Only the plugin's default highest-sequence mode is read here (no metadata table, <c>delete-compatibility-mode</c>
/// off); with it on, the plugin reads.
/// </summary>
public sealed class JournalRowReader
{
    private readonly JournalTable _table;
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly int _batchSize;
    private readonly string _defaultSerializer;
    private readonly string _replay;
    private readonly string _highest;

    private JournalRowReader(JournalTable table, JournalConfig journal, Akka.Serialization.Serialization serialization)
    {
        _table = table;
        _serialization = serialization;
        _batchSize = Math.Max(1, journal.DaoConfig.ReplayBatchSize);
        _defaultSerializer = journal.DefaultSerializer;
        var c = table.Columns;
        var uuid = table.UsesWriterUuid ? JournalTable.Quoted(c.WriterUuid) : "NULL";
        // The same rows the plugin replays: not deleted, in sequence order, a batch at a time.
        _replay = $"SELECT {string.Join(", ", new[] { c.SequenceNumber, c.Created, c.Message, c.Manifest, c.Identifier }.Select(JournalTable.Quoted))}, {uuid} " +
                  $"FROM {table.Name} WHERE {JournalTable.Quoted(c.PersistenceId)} = {table.Placeholder(0)} " +
                  $"AND {JournalTable.Quoted(c.SequenceNumber)} >= {table.Placeholder(1)} AND {JournalTable.Quoted(c.SequenceNumber)} <= {table.Placeholder(2)} " +
                  $"AND {JournalTable.Quoted(c.Deleted)} = {table.Placeholder(3)} ORDER BY {JournalTable.Quoted(c.SequenceNumber)} LIMIT {table.Placeholder(4)}";
        // Deleted rows count: the plugin keeps the highest deleted row so that numbering goes on after it.
        _highest = $"SELECT MAX({JournalTable.Quoted(c.SequenceNumber)}) FROM {table.Name} " +
                   $"WHERE {JournalTable.Quoted(c.PersistenceId)} = {table.Placeholder(0)} AND {JournalTable.Quoted(c.SequenceNumber)} > {table.Placeholder(1)}";
    }

    /// <summary>A reader for this journal's table, or null where the plugin must read.</summary>
    public static JournalRowReader? For(JournalTable table, JournalConfig journal, Akka.Serialization.Serialization serialization) =>
        journal.DaoConfig.SqlCommonCompatibilityMode ? null : new JournalRowReader(table, journal, serialization);

    /// <summary>The highest sequence number written for <paramref name="persistenceId"/> above <paramref name="fromSequenceNr"/>, or 0.</summary>
    public async Task<long> HighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        await using var connection = await _table.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = _highest;
        _table.Bind(command, persistenceId, fromSequenceNr);
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? Convert.ToInt64(value) : 0;
    }

    /// <summary>Replays the events from <paramref name="fromSequenceNr"/> to <paramref name="toSequenceNr"/>, at most
    /// <paramref name="max"/>, in order; an event that cannot be deserialized fails the replay (the recovery fails).</summary>
    public async Task ReplayAsync(string persistenceId, long fromSequenceNr, long toSequenceNr, long max, Action<IPersistentRepresentation> recovered)
    {
        var next = Math.Max(1, fromSequenceNr);
        var remaining = max;
        await using var connection = await _table.OpenAsync();
        while (remaining > 0 && next <= toSequenceNr)
        {
            var limit = (int)Math.Min(remaining, _batchSize);
            await using var command = connection.CreateCommand();
            command.CommandText = _replay;
            _table.Bind(command, persistenceId, next, toSequenceNr, false, limit);
            var read = 0;
            await using (var rows = await command.ExecuteReaderAsync())
            {
                while (await rows.ReadAsync())
                {
                    var persistent = Deserialize(persistenceId, rows);
                    recovered(persistent);
                    next = persistent.SequenceNr + 1;
                    read++;
                }
            }
            // A short batch was the last one.
            if (read < limit) return;
            remaining -= read;
        }
    }

    private Persistent Deserialize(string persistenceId, DbDataReader row)
    {
        var sequenceNr = row.GetInt64(0);
        var manifest = row.IsDBNull(3) ? string.Empty : row.GetString(3);
        var message = row.GetFieldValue<byte[]>(2);
        var payload = row.IsDBNull(4) ? DeserializeByType(message, manifest) : _serialization.Deserialize(message, row.GetInt32(4), manifest);
        return new Persistent(payload, sequenceNr, persistenceId, manifest, isDeleted: false, ActorRefs.NoSender,
            writerGuid: row.IsDBNull(5) ? null : row.GetString(5), timestamp: row.GetInt64(1));
    }

    /// <summary>A row without a serializer id (written by an older plugin): its manifest names the type, as the plugin reads it.</summary>
    private object DeserializeByType(byte[] message, string manifest)
    {
        var type = Type.GetType(manifest, throwOnError: true)!;
        var serializer = _serialization.FindSerializerForType(type, _defaultSerializer);
        return Akka.Serialization.Serialization.WithTransport(_serialization.System, () => serializer.FromBinary(message, type));
    }
}
