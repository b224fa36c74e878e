using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using SocketStarter.Backend;

namespace SocketStarter.Tests;

/// <summary>
/// The journal's group commit on a real SQLite file: writes that arrive within the window of the last transaction
/// wait for it and are committed together; each is confirmed only once committed; a recovery never misses a write
/// that is still waiting; recoveries (read with the journal's own SQL) replay what is kept, in order, across batches.
/// </summary>
public sealed class GroupCommitJournalSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Long enough that "waits for the window" cannot be mistaken for a slow machine.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    private readonly string _folder;

    public GroupCommitJournalSpec() : this(Directory.CreateTempSubdirectory("group-commit-").FullName)
    {
    }

    private GroupCommitJournalSpec(string folder) : base(JournalConfig(folder)) => _folder = folder;

    /// <summary>The SQLite file prepared as a backend prepares it (write-ahead logging), with the group-commit journal.</summary>
    private static Config JournalConfig(string folder)
    {
        var journal = JournalSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["JOURNAL_PROVIDER"] = JournalSettings.SqliteProvider,
            ["JOURNAL_CONNECTION_STRING"] = $"Data Source={Path.Combine(folder, "journal.db")}",
        }).Build()).Prepare();
        return ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.persistence.journal.plugin = "akka.persistence.journal.sql"
            akka.persistence.journal.sql {
              class = "{{typeof(GroupCommitJournal).AssemblyQualifiedName}}"
              connection-string = "{{journal.ConnectionString}}"
              provider-name = "{{journal.ProviderName}}"
              auto-initialize = on
              group-commit-window = {{Window.TotalMilliseconds}}ms
              # Small, so that a replay of a few events already takes several batches.
              replay-batch-size = 2
            }
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
            """).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private sealed record Persisted(string PersistenceId, string Event);
    private sealed record Recovered(string PersistenceId, IReadOnlyList<string> Events, long LastSequenceNr);
    private sealed record Rejected(string PersistenceId);

    /// <summary>Tells its writer to persist the text with tags (written to the plugin's tag table).</summary>
    private sealed record WithTags(string Text);

    /// <summary>Tells its writer to persist these texts in one write.</summary>
    private sealed record Several(string[] Texts);

    /// <summary>Tells its writer to delete its events up to this sequence number.</summary>
    private sealed record DeleteUpTo(long SequenceNr);

    /// <summary>An event the journal cannot serialize: its writer's persist is rejected.</summary>
    private sealed class Unserializable
    {
        public string Value => throw new InvalidOperationException("not serializable");
    }

    /// <summary>Persists each string it is sent and tells the test once it is persisted; tells what it recovered.</summary>
    private sealed class Writer : ReceivePersistentActor
    {
        private readonly List<string> _events = new();
        private readonly IActorRef _test;

        public Writer(string persistenceId, IActorRef test, Recovery? recovery)
        {
            PersistenceId = persistenceId;
            _test = test;
            Recovery = recovery ?? Recovery.Default;
            Recover<string>(_events.Add);
            Recover<RecoveryCompleted>(_ => test.Tell(new Recovered(persistenceId, _events.ToList(), LastSequenceNr)));
            Command<string>(text => Persist(text, persisted => test.Tell(new Persisted(persistenceId, persisted))));
            Command<WithTags>(tagged => Persist(new Tagged(tagged.Text, new[] { "tag" }), _ => test.Tell(new Persisted(persistenceId, tagged.Text))));
            Command<Unserializable>(bad => Persist(bad, _ => { }));
            Command<Several>(several => PersistAll(several.Texts, persisted => test.Tell(new Persisted(persistenceId, persisted))));
            Command<DeleteUpTo>(delete => DeleteMessages(delete.SequenceNr));
            Command<DeleteMessagesSuccess>(deleted => test.Tell(deleted));
        }

        public override Recovery Recovery { get; }

        protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr) => _test.Tell(new Rejected(PersistenceId));

        public override string PersistenceId { get; }
    }

    private IActorRef StartWriter(string persistenceId)
    {
        var writer = Sys.ActorOf(Props.Create(() => new Writer(persistenceId, TestActor, null)));
        // The first recovery of a run creates the journal's tables and compiles the plugin's paths: past the default
        // 3 s once, right after a build (2026-12-06).
        ExpectMsg<Recovered>(r => r.PersistenceId == persistenceId, TimeSpan.FromSeconds(10));
        return writer;
    }

    /// <summary>Stops every writer, then has a new incarnation of each recover exactly the events expected of it; returns what each recovered.</summary>
    private List<Recovered> StopAllThenRecover(IReadOnlyList<IActorRef> writers, params (string PersistenceId, string[] Events)[] expected)
    {
        foreach (var writer in writers) Watch(writer);
        foreach (var writer in writers)
        {
            writer.Tell(PoisonPill.Instance);
            ExpectTerminated(writer);
        }
        var recovered = new List<Recovered>();
        foreach (var (id, events) in expected)
        {
            Sys.ActorOf(Props.Create(() => new Writer(id, TestActor, null)));
            recovered.Add(ExpectMsg<Recovered>(r => r.PersistenceId == id && r.Events.SequenceEqual(events), Window * 3));
        }
        return recovered;
    }

    [Fact]
    public void Writes_that_arrive_within_the_window_wait_for_it_then_are_all_confirmed_and_kept()
    {
        var writers = new[] { "a", "b", "c", "d" }.Select(StartWriter).ToList();

        // After a quiet window the first write goes at once.
        writers[0].Tell("first");
        ExpectMsg<Persisted>(p => p.Event == "first", TimeSpan.FromSeconds(5));

        // The next ones share the transaction that the window allows next: not confirmed before it.
        for (var i = 1; i < writers.Count; i++) writers[i].Tell($"grouped-{i}");
        ExpectNoMsg(TimeSpan.FromSeconds(1));
        var confirmed = Enumerable.Range(1, writers.Count - 1).Select(_ => ExpectMsg<Persisted>(Window * 3)).ToList();
        Assert.Equal(new[] { "b", "c", "d" }, confirmed.Select(p => p.PersistenceId).Order());

        // What was confirmed is in the journal: new incarnations recover it.
        StopAllThenRecover(writers, ("a", ["first"]), ("b", ["grouped-1"]), ("c", ["grouped-2"]), ("d", ["grouped-3"]));
    }

    [Fact]
    public void A_recovery_of_an_entity_whose_write_waits_in_the_window_reads_that_write()
    {
        var first = StartWriter("e");
        var waiting = StartWriter("f");
        first.Tell("opens the window");
        ExpectMsg<Persisted>(TimeSpan.FromSeconds(2));
        waiting.Tell("in the window");
        // The write has reached the journal and waits there, unconfirmed: without this pause the new incarnation's
        // replay could reach the journal before the write did (1 CI run in several), and then rightly read nothing.
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        // Another incarnation of the same entity recovering now (as after a hand-off) must see the write.
        Sys.ActorOf(Props.Create(() => new Writer("f", TestActor, null)));
        var messages = new[] { ExpectMsg<object>(Window * 3), ExpectMsg<object>(Window * 3) };
        Assert.Contains(messages, m => m is Persisted { PersistenceId: "f", Event: "in the window" });
        Assert.Contains(messages, m => m is Recovered { PersistenceId: "f" } r && r.Events.SequenceEqual(new[] { "in the window" }));
    }

    [Fact]
    public void An_event_that_cannot_be_serialized_is_rejected_alone_and_tagged_events_are_kept()
    {
        var writers = new[] { "g", "h", "i" }.Select(StartWriter).ToList();
        writers[0].Tell("opens the window");
        ExpectMsg<Persisted>(TimeSpan.FromSeconds(5));

        // One group (written by our own INSERT): an event the journal cannot serialize and a plain one.
        writers[0].Tell(new Unserializable());
        writers[2].Tell("plain");
        var answers = Enumerable.Range(0, 2).Select(_ => ExpectMsg<object>(Window * 3)).ToList();
        Assert.Contains(answers, a => a is Rejected { PersistenceId: "g" });
        Assert.Contains(answers, a => a is Persisted { PersistenceId: "i", Event: "plain" });

        // The next group holds a tagged event (written the plugin's way, with its tag row).
        writers[1].Tell(new WithTags("tagged"));
        writers[2].Tell("plain again");
        answers = Enumerable.Range(0, 2).Select(_ => ExpectMsg<object>(Window * 3)).ToList();
        Assert.Contains(answers, a => a is Persisted { PersistenceId: "h", Event: "tagged" });
        Assert.Contains(answers, a => a is Persisted { PersistenceId: "i", Event: "plain again" });

        StopAllThenRecover(writers, ("g", ["opens the window"]), ("h", ["tagged"]), ("i", ["plain", "plain again"]));
        // Its tag went into the plugin's tag table, where queries by tag read it.
        using var journal = new SqliteConnection($"Data Source={Path.Combine(_folder, "journal.db")}");
        journal.Open();
        using var tagRows = journal.CreateCommand();
        tagRows.CommandText = "SELECT persistence_id FROM tags WHERE tag = 'tag'";
        Assert.Equal("h", tagRows.ExecuteScalar());
    }

    [Fact]
    public void A_recovery_replays_what_is_kept_in_order_across_batches_and_numbering_goes_on_after_deleted_events()
    {
        var writer = StartWriter("j");
        writer.Tell(new Several(["1", "2", "3", "4", "5"]));
        Assert.Equal(new[] { "1", "2", "3", "4", "5" }, Enumerable.Range(0, 5).Select(_ => ExpectMsg<Persisted>(Window * 3).Event));

        // Five events in batches of two, and a recovery that asks for at most three of them.
        StopAllThenRecover([writer], ("j", ["1", "2", "3", "4", "5"]));
        Sys.ActorOf(Props.Create(() => new Writer("j", TestActor, new Recovery(SnapshotSelectionCriteria.None, long.MaxValue, 3))));
        ExpectMsg<Recovered>(r => r.PersistenceId == "j" && r.Events.SequenceEqual(new[] { "1", "2", "3" }), Window * 3);

        // Deleted events are not replayed.
        var current = Sys.ActorOf(Props.Create(() => new Writer("j", TestActor, null)));
        ExpectMsg<Recovered>(r => r.PersistenceId == "j");
        current.Tell(new DeleteUpTo(2));
        ExpectMsg<DeleteMessagesSuccess>(Window * 3);
        StopAllThenRecover([current], ("j", ["3", "4", "5"]));

        // With every event deleted, a new incarnation still numbers its next event 6: one that numbered it 1 would
        // have written over the entity's history as the journal's readers see it.
        current = Sys.ActorOf(Props.Create(() => new Writer("j", TestActor, null)));
        ExpectMsg<Recovered>(r => r.PersistenceId == "j");
        current.Tell(new DeleteUpTo(5));
        ExpectMsg<DeleteMessagesSuccess>(Window * 3);
        StopAllThenRecover([current], ("j", []));
        current = LastSender;
        current.Tell("6");
        ExpectMsg<Persisted>(p => p.Event == "6", Window * 3);
        Assert.Equal(6, StopAllThenRecover([current], ("j", ["6"]))[0].LastSequenceNr);
    }
}
