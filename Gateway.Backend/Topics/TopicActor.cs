using System.Text;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using SocketStarter.Messages;
using SocketStarter.Gateway.Backend.Application;
using static SocketStarter.Messages.TopicEvents;

namespace SocketStarter.Gateway.Backend.Topics;

/// <summary>
/// Runs one topic's <see cref="TopicState"/>. Commands are committed in groups: while one batch is being written,
/// the topic keeps deciding publishes and membership changes, and what arrived meanwhile is written next as one
/// journal write; once it is persisted, its steps take effect in the order they arrived: each run of publishes is
/// delivered (one <see cref="FrontendCommands.TopicBatch"/> per frontend node with members) and answered in
/// <c>seq</c> order, and each membership change between them is applied and answered in its place (a member joining
/// after a post gets it in its catch-up, one leaving before it does not get it). Nothing is answered or delivered
/// before it is persisted. A crowd joining or leaving at once is a few journal writes, not one per member with the
/// room's posts held behind each (1000 leaves took ~1 s per room that way, docs/benchmarks.md).
/// Backpressure: a frontend confirms each batch (and each catch-up) once its members' sockets have it; while a frontend has
/// <see cref="DeliveryWindow"/> unconfirmed, the topic writes no new batch and sends no catch-up, so the publishes wait unanswered,
/// and the clients' frames queue at their frontends (held, or refused <c>rate_limited</c> past <c>MAX_QUEUED_WHILE_BUSY</c>
/// or <c>MAX_QUEUE_WAIT_MS</c>).
/// The frames themselves are the application's (<see cref="ITopicFrames"/>).
/// </summary>
public sealed class TopicActor : ReceivePersistentActor, IWithTimers
{
    private const int SnapshotEvery = 500;
    /// <summary>A busy room saves its state no more often than this: the state holds the last 1000 messages and each
    /// member's recent publish keys (578 KB of JSON at 100 members), and at 600 posts a second every 500 events meant
    /// 12 snapshots a second across 10 rooms, ~8% of the backend's CPU (docs/profile.md). A recovery then replays
    /// at most what 5 s brought (3000 events at that rate) rather than 500.</summary>
    private static readonly TimeSpan SnapshotInterval = TimeSpan.FromSeconds(5);
    /// <summary>Batches and catch-ups a frontend may have unconfirmed before the topic stops writing and sending more.</summary>
    public const int DeliveryWindow = 4;
    /// <summary>An unconfirmed batch older than this no longer holds the topic back (its frontend may be gone).</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(2);
    private const string DeliveryTimer = "delivery";

    private readonly string _topicId;
    /// <summary>The application's own name for the topic, as its frames show it.</summary>
    private readonly string _name;
    private readonly ITopicFrames _frames;
    private readonly TimeSpan _deliveryTimeout;
    private readonly TopicState _state = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>What was decided while a batch is being written, in order: written next as one batch.</summary>
    private List<Step> _next = new();
    /// <summary>Per frontend node: catch-ups decided and not yet sent, which count in its delivery window.</summary>
    private readonly Dictionary<IActorRef, int> _catchUpsQueued = new();
    private bool _writing;
    /// <summary>A command waits in the stash (a join for its frontend's window, a hand-off for the writes to finish);
    /// everything after it queues up behind it to keep their order.</summary>
    private bool _holding;
    private long _snapshotAt;
    /// <summary>When this incarnation last saved a snapshot (none yet: the first one due is saved).</summary>
    private DateTime _snapshotSavedAt = DateTime.MinValue;
    /// <summary>Per frontend node: the batches sent and not yet confirmed, oldest first (last seq, when sent).</summary>
    private readonly Dictionary<IActorRef, Queue<(long Seq, DateTime SentAt)>> _unconfirmed = new();
    /// <summary>Per session, the step (subscribe, unsubscribe, rebind, presence) last decided: see <see cref="DecidedBefore"/>.</summary>
    private readonly Dictionary<string, long> _lastDecided = new();
    /// <summary>Fan-outs known to be gone (their node stopped or was downed): nothing they were sent holds the topic back.</summary>
    private readonly HashSet<IActorRef> _goneFrontends = new();

    private sealed record CheckDelivery
    {
        public static readonly CheckDelivery Instance = new();
    }

    /// <summary>One decided command: the event to persist (none: nothing changes), then what to do once it is
    /// persisted and applied. A publish's step (<paramref name="OfPublish"/>) takes effect after the run of publishes
    /// it is in is delivered; a membership step takes effect in its place between runs.</summary>
    private sealed record Step(ITopicEvent? Event, Action Then, bool OfPublish);

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="topicId">The entity id (<see cref="TopicIds"/>).</param>
    /// <param name="frames">The frames of the topic's application.</param>
    /// <param name="deliveryTimeout">How long an unconfirmed batch holds the topic back; <see cref="DeliveryTimeout"/>
    /// unless a test must not depend on how fast its machine runs.</param>
    public static Props Props(string topicId, ITopicFrames frames, TimeSpan? deliveryTimeout = null) =>
        Akka.Actor.Props.Create(() => new TopicActor(topicId, frames, deliveryTimeout ?? DeliveryTimeout));

    public TopicActor(string topicId, ITopicFrames frames, TimeSpan deliveryTimeout)
    {
        _topicId = topicId;
        _name = TopicIds.Parse(topicId).Topic;
        _frames = frames;
        _deliveryTimeout = deliveryTimeout;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not TopicSnapshot snapshot) return;
            _state.Restore(snapshot);
            _snapshotAt = offer.Metadata.SequenceNr;
        });
        Recover<ITopicEvent>(_state.Apply);

        Command<TopicCommands.Publish>(publish => { if (_holding) Stash.Stash(); else HandlePublish(publish); });
        Command<TopicCommands.Subscribe>(subscribe => Membership(subscribe, HandleSubscribe));
        Command<TopicCommands.Unsubscribe>(unsubscribe => Membership(unsubscribe, HandleUnsubscribe));
        Command<TopicCommands.Rebind>(rebind => Membership(rebind, HandleRebind));
        Command<TopicCommands.SetPresence>(set => Membership(set, HandleSetPresence));
        Command<TopicQueries.GetMemberCount>(_ => Sender.Tell(new TopicQueries.MemberCount(_topicId, _state.MemberCount)));
        Command<TopicCommands.Delivered>(delivered =>
        {
            if (_unconfirmed.TryGetValue(Sender, out var sent))
                while (sent.TryPeek(out var batch) && batch.Seq <= delivered.UpToSeq) sent.Dequeue();
            ResumeWriting();
        });
        Command<CheckDelivery>(_ => ResumeWriting());
        // A frontend that died confirms nothing: without this, every window of batches would wait out the timeout
        // for as long as its members' sessions stay (their resume window).
        Command<Terminated>(terminated =>
        {
            _goneFrontends.Add(terminated.ActorRef);
            _unconfirmed.Remove(terminated.ActorRef);
            ResumeWriting();
        });
        Command<SaveSnapshotSuccess>(success =>
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
        // Hand-off: what is decided is written, delivered and answered first.
        Command<StopEntity>(_ =>
        {
            if (Busy) Hold();
            else HandOff.Stop(Context);
        });
    }

    public override string PersistenceId => $"topic-{_topicId}";

    /// <summary>Commands are queued or being written: the state does not yet hold them.</summary>
    private bool Busy => _writing || _next.Count > 0;

    /// <summary>The command waits in the stash, and everything after it behind it, until nothing is queued or
    /// being written.</summary>
    private void Hold()
    {
        _holding = true;
        Stash.Stash();
    }

    /// <summary>A membership command waits behind a held one; a retry of one already decided is only answered.</summary>
    private void Membership<TCommand>(TCommand command, Action<TCommand> handle) where TCommand : TopicCommands.ITopicCommand
    {
        if (_holding) Stash.Stash();
        else if (!DecidedBefore(command)) handle(command);
    }

    /// <summary>
    /// A retry of the step last decided for that session (the session resends every 500 ms until answered, and a
    /// catch-up of thousands of messages takes longer than that to send) is answered again, after the original,
    /// without sending its frames twice. In memory only: after a restart a retry is handled as new, which the steps
    /// allow.
    /// </summary>
    private bool DecidedBefore(TopicCommands.ITopicCommand command)
    {
        if (!_lastDecided.TryGetValue(command.SessionId, out var opId) || opId != command.OpId) return false;
        var (replyTo, done) = (Sender, new TopicReplies.Done(_topicId, command.OpId));
        Enqueue(new Step(null, () => replyTo.Tell(done), OfPublish: false));
        return true;
    }

    /// <summary>Queues a decided membership step; nothing is kept of a session that leaves (a retry of its
    /// unsubscribe finds no member and sends nothing).</summary>
    private void Decided(TopicCommands.ITopicCommand command, ITopicEvent? @event, Action then)
    {
        if (command is TopicCommands.Unsubscribe) _lastDecided.Remove(command.SessionId);
        else _lastDecided[command.SessionId] = command.OpId;
        Enqueue(new Step(@event, then, OfPublish: false));
    }

    private void Enqueue(Step step)
    {
        _next.Add(step);
        if (!_writing) WriteNext();
    }

    private void Answer(IActorRef replyTo, TopicCommands.ITopicCommand command) =>
        replyTo.Tell(new TopicReplies.Done(_topicId, command.OpId));

    private void HandlePublish(TopicCommands.Publish publish)
    {
        var replyTo = Sender;
        var done = new TopicReplies.Done(_topicId, publish.OpId);
        switch (_state.DecidePublish(publish, DateTime.UtcNow))
        {
            case TopicState.Accepted { Event: var published }:
                Enqueue(new Step(published, () => replyTo.Tell(done), OfPublish: true));
                break;
            case TopicState.Repeat when !Busy:
                replyTo.Tell(done);
                break;
            case TopicState.Repeat:
                // The original may be in the batch being written: answer after it.
                Enqueue(new Step(null, () => replyTo.Tell(done), OfPublish: true));
                break;
        }
    }

    /// <summary>
    /// Writes what queued up as one batch; once persisted, delivers it, answers it in order and writes the next.
    /// While a frontend is a full window behind, the queue waits (and keeps growing by the publishes that arrive).
    /// </summary>
    private void WriteNext()
    {
        _writing = false;
        if (_next.Count == 0)
        {
            if (!_holding) return;
            _holding = false;
            Stash.UnstashAll();
            return;
        }
        // Only publishes wait for a frontend's full window: membership steps alone are written.
        if (_next.Exists(step => step.OfPublish && step.Event is not null) && DeliveryBlocked())
        {
            RecheckDeliverySoon();
            return;
        }
        var steps = _next;
        _next = new();
        _writing = true;
        var events = steps.Where(step => step.Event is not null).Select(step => step.Event!).ToList();
        if (events.Count == 0)
        {
            Written(steps);
            return;
        }
        var remaining = events.Count;
        PersistAllAsync(events, _ =>
        {
            if (--remaining == 0) Written(steps);
        });
    }

    private void ResumeWriting()
    {
        if (!_writing) WriteNext();
    }

    /// <summary>Applies a persisted batch step by step: each run of publishes is delivered, then answered; each
    /// membership step takes effect where it came.</summary>
    private void Written(List<Step> steps)
    {
        var run = new List<Published>();
        var answers = new List<Action>();
        foreach (var step in steps)
        {
            if (step.OfPublish)
            {
                if (step.Event is Published published)
                {
                    _state.Apply(published);
                    run.Add(published);
                }
                answers.Add(step.Then);
                continue;
            }
            DeliverRun(run, answers);
            if (step.Event is { } change) _state.Apply(change);
            step.Then();
        }
        DeliverRun(run, answers);
        SnapshotIfDue();
        WriteNext();
    }

    private void DeliverRun(List<Published> run, List<Action> answers)
    {
        if (run.Count > 0) Deliver(run);
        foreach (var answer in answers) answer();
        run.Clear();
        answers.Clear();
    }

    /// <summary>One message per frontend node with members, the whole batch in seq order.</summary>
    private void Deliver(List<Published> events)
    {
        var frames = events.Select(e => new FrontendCommands.TopicFrame(_topicId, e.Message.Seq, _frames.Message(_name, e.Message), null)).ToList();
        var batch = new FrontendCommands.TopicBatch(_topicId, frames);
        var lastSeq = frames[^1].Seq;
        var now = DateTime.UtcNow;
        foreach (var frontend in _state.FrontendsExcept(null))
        {
            frontend.Tell(batch);
            AwaitConfirmation(frontend, lastSeq, now);
        }
    }

    /// <summary>What was sent to <paramref name="frontend"/> up to <paramref name="seq"/> counts in its window until confirmed.</summary>
    private void AwaitConfirmation(IActorRef frontend, long seq, DateTime now)
    {
        if (_goneFrontends.Contains(frontend)) return;
        if (!_unconfirmed.TryGetValue(frontend, out var sent))
        {
            _unconfirmed[frontend] = sent = new();
            Context.Watch(frontend);
        }
        sent.Enqueue((seq, now));
    }

    /// <summary>Some frontend has a full window unconfirmed (what is past the timeout no longer counts). Frontends with
    /// nothing unconfirmed are forgotten on the way (a dictionary allows removal while it is enumerated).</summary>
    private bool DeliveryBlocked()
    {
        var blocked = false;
        var now = DateTime.UtcNow;
        foreach (var (frontend, sent) in _unconfirmed)
        {
            if (WindowFull(sent, now)) blocked = true;
            else if (sent.Count == 0) _unconfirmed.Remove(frontend);
        }
        return blocked;
    }

    /// <summary>Confirmations may not come (a frontend gone, a slow reader): what waits for them looks again shortly.</summary>
    private void RecheckDeliverySoon() =>
        Timers.StartSingleTimer(DeliveryTimer, CheckDelivery.Instance, TimeSpan.FromMilliseconds(100));

    /// <summary>A catch-up to <paramref name="frontend"/> would pass its window: what it has unconfirmed and the
    /// catch-ups already decided for it.</summary>
    private bool CatchUpWindowFull(IActorRef frontend)
    {
        var queued = _catchUpsQueued.GetValueOrDefault(frontend);
        if (!_unconfirmed.TryGetValue(frontend, out var sent)) return queued >= DeliveryWindow;
        WindowFull(sent, DateTime.UtcNow);
        return sent.Count + queued >= DeliveryWindow;
    }

    private bool WindowFull(Queue<(long Seq, DateTime SentAt)> sent, DateTime now)
    {
        var expired = now - _deliveryTimeout;
        while (sent.TryPeek(out var oldest) && oldest.SentAt < expired) sent.Dequeue();
        return sent.Count >= DeliveryWindow;
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // A batch that cannot be written would hold the topic forever: start over from the journal; senders retry.
        _log.Error(cause, "Topic {0}: the journal rejected an event; restarting the topic", _topicId);
        throw new InvalidOperationException($"Topic {_topicId}: event {sequenceNr} rejected by the journal", cause);
    }

    private void HandleSubscribe(TopicCommands.Subscribe subscribe)
    {
        if (CatchUpWindowFull(subscribe.Frontend))
        {
            // Its frontend has not yet written what it was sent: the catch-up waits, and the topic's publishes behind
            // it. Clients rejoining with `since` at once (after an outage, or a frontend's clients moving) otherwise
            // had hundreds of catch-ups (1000 x 150 KB) sent in one burst down one remoting connection; the cluster's
            // heartbeats queued behind them for 2-3 s, and the only backend was downed as unreachable.
            Hold();
            RecheckDeliverySoon();
            return;
        }
        var replyTo = Sender;
        var frontend = subscribe.Frontend;
        _catchUpsQueued[frontend] = _catchUpsQueued.GetValueOrDefault(frontend) + 1;
        var joined = _state.DecideSubscribe(subscribe);
        Decided(subscribe, joined, () =>
        {
            if (--_catchUpsQueued[frontend] == 0) _catchUpsQueued.Remove(frontend);
            AnswerSubscribe(subscribe, replyTo);
            if (joined is MemberJoined) AnnouncePresence(joined: subscribe.Presence, left: null, exceptSessionId: subscribe.SessionId);
        });
    }

    /// <summary>
    /// The subscribed frame holds the catch-up up to <see cref="SubscribedHistoryBytes"/>; the rest follows at once as
    /// message frames to that session, before any newer message (this actor sends them in order). A thousand long
    /// messages in one frame would pass remoting's 16 MiB limit and be dropped; an ordinary catch-up (1000 messages
    /// of up to 2 KB) stays one frame, as clients that predate the split expect.
    /// </summary>
    private void AnswerSubscribe(TopicCommands.Subscribe subscribe, IActorRef replyTo)
    {
        var history = _state.HistoryFor(subscribe.Since);
        var fits = 0;
        for (var bytes = 0; fits < history.Count; fits++)
        {
            var message = history[fits];
            bytes += Encoding.UTF8.GetByteCount(message.Payload) + MessageFieldsBytes;
            if (bytes > SubscribedHistoryBytes) break;
        }
        var frame = _frames.Subscribed(_name, _state.Presences, history.Take(fits), more: fits < history.Count);
        // A catch-up counts in its frontend's delivery window, like a batch (confirmed up to the topic's last seq).
        long? confirmSeq = history.Count > 0 ? _state.LastSeq : null;
        subscribe.Frontend.Tell(new FrontendCommands.Subscribe(_topicId, subscribe.SessionId, frame, confirmSeq));
        if (confirmSeq is { } seq) AwaitConfirmation(subscribe.Frontend, seq, DateTime.UtcNow);
        foreach (var message in history.Skip(fits))
            subscribe.Frontend.Tell(new FrontendCommands.ToSession(subscribe.SessionId, _frames.Message(_name, message)));
        Answer(replyTo, subscribe);
    }

    /// <summary>2 MiB of payload: with JSON escaping twice over (frame, then wire) at worst 8 MiB of remoting frame.</summary>
    private const int SubscribedHistoryBytes = 2 * 1024 * 1024;
    /// <summary>What a frame adds to a message's payload: field names, topic, seq and timestamp.</summary>
    private const int MessageFieldsBytes = 100;

    private void HandleUnsubscribe(TopicCommands.Unsubscribe unsubscribe)
    {
        var replyTo = Sender;
        var member = _state.DecidedMemberOf(unsubscribe.SessionId);
        var left = _state.DecideUnsubscribe(unsubscribe);
        Decided(unsubscribe, left, () =>
        {
            if (left is not null && member is not null)
            {
                member.Frontend.Tell(new FrontendCommands.Unsubscribe(_topicId, unsubscribe.SessionId,
                    unsubscribe.Expired ? null : _frames.Unsubscribed(_name)));
                AnnouncePresence(joined: null, left: member.Presence, exceptSessionId: unsubscribe.SessionId);
            }
            Answer(replyTo, unsubscribe);
        });
    }

    private void HandleRebind(TopicCommands.Rebind rebind)
    {
        var replyTo = Sender;
        var isMember = _state.DecidedMemberOf(rebind.SessionId) is not null;
        Decided(rebind, _state.DecideRebind(rebind), () =>
        {
            if (isMember) rebind.Frontend.Tell(new FrontendCommands.Subscribe(_topicId, rebind.SessionId, Frame: null));
            Answer(replyTo, rebind);
        });
    }

    private void HandleSetPresence(TopicCommands.SetPresence set)
    {
        var replyTo = Sender;
        var previous = _state.DecidedMemberOf(set.SessionId)?.Presence;
        var changed = _state.DecideSetPresence(set);
        Decided(set, changed, () =>
        {
            if (changed is not null) AnnouncePresence(joined: set.Presence, left: previous, exceptSessionId: set.SessionId);
            Answer(replyTo, set);
        });
    }

    /// <summary>Tells the other members who left, then who joined; a member without a presence ("") is not announced.</summary>
    private void AnnouncePresence(string? joined, string? left, string exceptSessionId)
    {
        if (left is { Length: > 0 }) BroadcastPresence(_frames.Presence(_name, joined: null, left: left), exceptSessionId);
        if (joined is { Length: > 0 }) BroadcastPresence(_frames.Presence(_name, joined: joined, left: null), exceptSessionId);
    }

    /// <summary>A presence frame (no seq), one copy per frontend node with other members; messages go by <see cref="Deliver"/>.</summary>
    private void BroadcastPresence(string frame, string exceptSessionId)
    {
        var command = new FrontendCommands.TopicFrame(_topicId, 0, frame, exceptSessionId);
        foreach (var frontend in _state.FrontendsExcept(exceptSessionId))
            frontend.Tell(command);
    }

    /// <summary>Called only when nothing is being written, so the state is exactly what is persisted.</summary>
    private void SnapshotIfDue()
    {
        if (LastSequenceNr - _snapshotAt < SnapshotEvery) return;
        var now = DateTime.UtcNow;
        if (now - _snapshotSavedAt < SnapshotInterval) return;
        (_snapshotAt, _snapshotSavedAt) = (LastSequenceNr, now);
        SaveSnapshot(_state.ToSnapshot());
    }
}
