using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace SocketStarter.Backend;

/// <summary>
/// Recovers a few entities that were never written, so that the journal's connection pool is open and its read
/// queries are compiled before this backend joins the cluster. A backend that joined cold took the shards handed
/// to it with every first recovery paying for linq2db's query compilation at once: on 2 cores, under load, loading
/// the remembered sessions of 20 shards ran past <c>updating-state-timeout</c>, the shards restarted after a
/// back-off, and clients stalled 7-18 s after a rolling restart (docs/benchmarks.md). Replays now read with our own
/// SQL (<see cref="JournalRowReader"/>), but the plugin still creates its tables at start and loads snapshots with
/// linq2db: those are what this compiles now, off the path of the first rooms' recoveries. Nothing is written.
/// </summary>
public sealed class JournalWarmupActor : ReceiveActor
{
    private sealed record Recovered;

    /// <summary>One recovery of an empty persistence id: the snapshot query, the highest-sequence query, the replay.</summary>
    private sealed class EmptyRecovery(string persistenceId) : UntypedPersistentActor
    {
        public override string PersistenceId { get; } = persistenceId;

        protected override void OnRecover(object message)
        {
            if (message is RecoveryCompleted)
            {
                Context.Parent.Tell(new Recovered());
                Context.Stop(Self);
            }
        }

        protected override void OnCommand(object message) => Unhandled(message);
    }

    public static Props Props(int recoveries, TaskCompletionSource<TimeSpan> done) =>
        Akka.Actor.Props.Create(() => new JournalWarmupActor(recoveries, done));

    public JournalWarmupActor(int recoveries, TaskCompletionSource<TimeSpan> done)
    {
        var clock = Stopwatch.StartNew();
        var remaining = recoveries;
        var warmupId = Guid.NewGuid().ToString("N");
        // In parallel, so that the pool opens as many connections as a burst of recoveries uses.
        for (var i = 0; i < recoveries; i++)
        {
            var persistenceId = $"warmup-{warmupId}-{i}";
            Context.ActorOf(Akka.Actor.Props.Create(() => new EmptyRecovery(persistenceId)));
        }
        Receive<Recovered>(_ =>
        {
            if (--remaining > 0) return;
            done.TrySetResult(clock.Elapsed);
            Context.Stop(Self);
        });
    }
}

public static class JournalWarmupHostingExtensions
{
    /// <summary>
    /// What this backend does before it joins: warm the journal (at most <paramref name="limit"/>; a journal that
    /// is down does not keep the node out: its readiness says so) and log how long that took.
    /// </summary>
    public static Func<ActorSystem, Task> WarmJournal(int recoveries, TimeSpan limit) => async system =>
    {
        var log = Logging.GetLogger(system, typeof(JournalWarmupActor));
        var took = await RunAsync(system, recoveries, limit);
        if (took is { } elapsed)
            log.Info("Journal warmed up in {0:F0} ms ({1} recoveries); joining the cluster", elapsed.TotalMilliseconds, recoveries);
        else
            log.Warning("Journal did not answer {0} recoveries within {1}; joining the cluster anyway", recoveries, limit);
    };

    /// <summary>Runs the recoveries; completes when they are done, or after <paramref name="limit"/> at the latest.</summary>
    private static async Task<TimeSpan?> RunAsync(ActorSystem system, int recoveries, TimeSpan limit)
    {
        var done = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var warmup = system.ActorOf(JournalWarmupActor.Props(recoveries, done), "journal-warmup");
        var finished = await Task.WhenAny(done.Task, Task.Delay(limit));
        if (finished == done.Task) return done.Task.Result;
        system.Stop(warmup);
        return null;
    }
}
