using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Persistence.Sql.Journal;

namespace SocketStarter.Backend;

/// <summary>
/// Akka.Persistence.Sql's journal with group commit across entities: the writes of every room and session that
/// arrive within <c>group-commit-window</c> of the last transaction go to the database as one transaction. The plugin
/// itself only groups what arrives while a transaction is in flight, which at 1,000 posts/s over ten rooms was almost
/// never: 700-950 transactions (and WAL syncs) a second, each with its own linq2db statement, allocations and thread
/// wake-ups. A write that arrives after a quiet window starts its transaction at once, so a light load waits for
/// nothing; only under load do writes wait, for at most the window. One transaction is in flight at a time: what
/// arrives meanwhile is the next one. Each write is still answered only after its transaction has committed:
/// acknowledging after persisting is unchanged. The rows go in with a prepared INSERT of our own
/// (<see cref="JournalRowWriter"/>) where it fits, the plugin's write path otherwise; recoveries read with SQL of our
/// own (<see cref="JournalRowReader"/>) where it fits.
/// </summary>
public sealed class GroupCommitJournal : SqlWriteJournal
{
    private sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    private sealed record Written(List<Waiting> Group);

    private sealed record Waiting(string PersistenceId, List<AtomicWrite> Writes, TaskCompletionSource<IImmutableList<Exception>?> Done);

    private readonly TimeSpan _window;
    private List<Waiting> _waiting = new();
    private bool _flushScheduled;
    private bool _inFlight;
    private long? _lastTransaction;
    private readonly JournalRowWriter? _rowWriter;
    /// <summary>Only with group commit on: its wait for uncommitted writes (<see cref="AroundReceive"/>) is what makes a
    /// recovery read after them; the plugin's own wait covers only its own writes.</summary>
    private readonly JournalRowReader? _rowReader;

    /// <summary>
    /// The latest write of each persistence id that is not committed yet. The plugin makes a recovery wait only for
    /// the first persistence id of each of its writes; a group holds many, so the others' recoveries wait here.
    /// </summary>
    private readonly Dictionary<string, Task> _uncommitted = new();

    public GroupCommitJournal(Config journalConfig) : base(journalConfig)
    {
        _window = journalConfig.GetTimeSpan("group-commit-window", TimeSpan.Zero, allowInfinite: false);
        var journal = new JournalConfig(journalConfig.WithFallback(SqlPersistence.DefaultJournalConfiguration));
        // Null on other databases or tag modes: the plugin's own paths then read and write.
        var table = JournalTable.For(journal);
        _rowWriter = table is null ? null : JournalRowWriter.For(table, journal, Context.System.Serialization);
        _rowReader = table is not null && _window > TimeSpan.Zero ? JournalRowReader.For(table, journal, Context.System.Serialization) : null;
    }

    // Off the journal's thread: the SQLite driver does its I/O synchronously, and the journal goes on taking writes.
    public override Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback) =>
        _rowReader is { } reader
            ? Task.Run(() => reader.ReplayAsync(persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback))
            : base.ReplayMessagesAsync(context, persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback);

    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken) =>
        _rowReader is { } reader
            ? Task.Run(() => reader.HighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken), cancellationToken)
            : base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        // One call carries the writes of one persistent actor.
        var writes = messages.ToList();
        if (_window <= TimeSpan.Zero || writes.Count == 0) return base.WriteMessagesAsync(writes, cancellationToken);
        var done = new TaskCompletionSource<IImmutableList<Exception>?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting.Add(new Waiting(writes[0].PersistenceId, writes, done));
        _uncommitted[writes[0].PersistenceId] = done.Task;
        WriteWhenDue();
        return done.Task!;
    }

    /// <summary>What waits goes once the window since the last transaction has passed and none is in flight.</summary>
    private void WriteWhenDue()
    {
        if (_flushScheduled || _inFlight || _waiting.Count == 0) return;
        var due = _lastTransaction is { } last ? _window - Stopwatch.GetElapsedTime(last) : TimeSpan.Zero;
        if (due <= TimeSpan.Zero)
        {
            WriteWaiting();
            return;
        }
        _flushScheduled = true;
        var self = Self;
        _ = Task.Delay(due).ContinueWith(_ => self.Tell(Flush.Instance), TaskScheduler.Default);
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        // A recovery reads what is committed: one whose persistence id has a write in the window or in flight waits
        // for it (and the window is cut short), then is handled as it came.
        if (message is ReplayMessages replay && _uncommitted.TryGetValue(replay.PersistenceId, out var write))
        {
            if (!write.IsCompleted)
            {
                WriteWaiting();
                var (self, sender) = (Self, Sender);
                write.ContinueWith(_ => self.Tell(replay, sender), TaskContinuationOptions.ExecuteSynchronously);
                return true;
            }
            _uncommitted.Remove(replay.PersistenceId);
        }
        return base.AroundReceive(receive, message);
    }

    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case Flush:
                _flushScheduled = false;
                WriteWaiting();
                return true;
            case Written written:
                _inFlight = false;
                foreach (var waiting in written.Group)
                    if (_uncommitted.TryGetValue(waiting.PersistenceId, out var latest) && latest == waiting.Done.Task)
                        _uncommitted.Remove(waiting.PersistenceId);
                WriteWhenDue();
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    /// <summary>Everything waiting, as one transaction (unless one is in flight), each caller answered with its share.</summary>
    private void WriteWaiting()
    {
        if (_waiting.Count == 0 || _inFlight) return;
        var group = _waiting;
        _waiting = new();
        _lastTransaction = Stopwatch.GetTimestamp();
        _inFlight = true;

        Task<IImmutableList<Exception>?> written;
        try
        {
            written = Write(group.SelectMany(waiting => waiting.Writes).ToList());
        }
        catch (Exception e)
        {
            written = Task.FromException<IImmutableList<Exception>?>(e);
        }
        var self = Self;
        written.ContinueWith(result =>
        {
            var offset = 0;
            foreach (var waiting in group)
            {
                if (result.IsFaulted) waiting.Done.TrySetException(result.Exception!.InnerExceptions);
                else if (result.IsCanceled) waiting.Done.TrySetCanceled();
                else
                {
                    // One result per atomic write (null: written); no list at all means every one was written.
                    waiting.Done.TrySetResult(result.Result?.Skip(offset).Take(waiting.Writes.Count).ToImmutableList());
                    offset += waiting.Writes.Count;
                }
            }
            self.Tell(new Written(group));
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>
    /// These writes in one transaction: ours where they fit, the plugin's otherwise. Answers one entry per atomic write
    /// (the exception that kept it from being serialized, or null), or null when all were written.
    /// </summary>
    private Task<IImmutableList<Exception>?> Write(List<AtomicWrite> writes)
    {
        if (_rowWriter is { } rowWriter && JournalRowWriter.Fits(writes)) return rowWriter.WriteAsync(writes);
        return base.WriteMessagesAsync(writes, CancellationToken.None)!;
    }

    protected override void PostStop()
    {
        foreach (var waiting in _waiting) waiting.Done.TrySetException(new InvalidOperationException("The journal stopped before this write."));
        base.PostStop();
    }
}
