using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace SocketStarter.Tests;

/// <summary>
/// The in-memory journal, with each persistence id's journal writes counted and, when a test asks, held until it
/// releases them: what a slow commit looks like to an entity.
/// </summary>
public sealed class GatedJournal : MemoryJournal
{
    public static readonly Config Config = ConfigurationFactory.ParseString($$"""
        akka.persistence.journal.plugin = "akka.persistence.journal.gated"
        akka.persistence.journal.gated {
          class = "{{typeof(GatedJournal).AssemblyQualifiedName}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """);

    private static readonly ConcurrentDictionary<string, int> Writes = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    /// <summary>Journal writes (one per <c>WriteMessages</c> request, however many events it holds) so far.</summary>
    public static int WritesOf(string persistenceId) => Writes.GetValueOrDefault(persistenceId);

    /// <summary>The next writes of <paramref name="persistenceId"/> wait until <see cref="Release"/>.</summary>
    public static void Hold(string persistenceId) =>
        Gates[persistenceId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void Release(string persistenceId)
    {
        if (Gates.TryRemove(persistenceId, out var gate)) gate.SetResult();
    }

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        foreach (var persistenceId in writes.Select(write => write.PersistenceId).Distinct())
        {
            Writes.AddOrUpdate(persistenceId, 1, (_, count) => count + 1);
            if (Gates.TryGetValue(persistenceId, out var gate)) await gate.Task;
        }
        return await base.WriteMessagesAsync(writes, cancellationToken);
    }
}
