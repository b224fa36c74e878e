using System.Text;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using SocketStarter.Messages;
using SocketStarter.Gateway.Backend.Application;
using static SocketStarter.Messages.TopicEvents;

namespace SocketStarter.Gateway.Backend.Topics;

/// <summary>
/// Runs one topic's <see cref="TopicState"/>. Publishes are committed in groups: while one batch is being written,
/// the topic keeps taking publishes, and what arrived meanwhile is written next as one journal write; then the batch
/// is delivered (one <see cref="FrontendCommands.TopicBatch"/> per frontend node with members) and each publish is
/// answered, in <c>seq</c> order. Nothing is answered or delivered before it is persisted. Membership changes
/// (rare) wait until no publish is queued or being written, so a batch never straddles one.
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
    private readonly TopicState _state = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Publishes decided while a batch is being written, and what to do, in order, once they are persisted.</summary>
    private List<Published> _nextEvents = new();
    private List<Action> _nextEffects = new();
    private bool _writing;
    /// <summary>A command waits in the stash for the writes to finish; publishes queue up behind it to keep their order.</summary>
    private bool _holding;
    private long _snapshotAt;
    /// <summary>When this incarnation last saved a snapshot (none yet: the first one due is saved).</summary>
    private DateTime _snapshotSavedAt = DateTime.MinValue;
    /// <summary>Per frontend node: the batches sent and not yet confirmed, oldest first (last seq, when sent).</summary>
    private readonly Dictionary<IActorRef, Queue<(long Seq, DateTime SentAt)>> _unconfirmed = new();
    /// <summary>Per session, the step (subscribe, unsubscribe, rebind, presence) last answered: see <see cref="AnsweredBefore"/>.</summary>
    private readonly Dictionary<string, long> _lastAnswered = new();
    /// <summary>Fan-outs known to be gone (their node stopped or was downed): nothing they were sent holds the topic back.</summary>
    private readonly HashSet<IActorRef> _goneFrontends = new();

    private sealed record CheckDelivery
    {
        public static readonly CheckDelivery Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="topicId">The entity id (<see cref="TopicIds"/>).</param>
    /// <param name="frames">The frames of the topic's application.</param>
    public static Props Props(string topicId, ITopicFrames frames) => Akka.Actor.Props.Create(() => new TopicActor(topicId, frames));

    public TopicActor(string topicId, ITopicFrames frames)
    {
        _topicId = topicId;
        _name = TopicIds.Parse(topicId).Topic;
        _frames = frames;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not TopicSnapshot snapshot) return;
            _state.Restore(snapshot);
            _snapshotAt = offer.Metadata.SequenceNr;
        });
        Recover<ITopicEvent>(_state.Apply);

        Command<TopicCommands.Publish>(publish => { if (_holding) Stash.Stash(); else HandlePublish(publish); });
        Command<TopicCommands.Subscribe>(subscribe => { if (!AnsweredBefore(subscribe)) WhenWritten(() => HandleSubscribe(subscribe)); });
        Command<TopicCommands.Unsubscribe>(unsubscribe => { if (!AnsweredBefore(unsubscribe)) WhenWritten(() => HandleUnsubscribe(unsubscribe)); });
        Command<TopicCommands.Rebind>(rebind => { if (!AnsweredBefore(rebind)) WhenWritten(() => HandleRebind(rebind)); });
        Command<TopicCommands.SetPresence>(set => { if (!AnsweredBefore(set)) WhenWritten(() => HandleSetPresence(set)); });
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
        // Hand-off: the batch being written is delivered and answered first.
        Command<StopEntity>(_ => WhenWritten(() => HandOff.Stop(Context)));
    }

    public override string PersistenceId => $"topic-{_topicId}";

    /// <summary>Publishes are queued or being written: the state does not yet hold them.</summary>
    private bool Busy => _writing || _nextEvents.Count > 0 || _nextEffects.Count > 0;

    private void WhenWritten(Action handle)
    {
        if (!Busy)
        {
            handle();
            return;
        }
        _holding = true;
        Stash.Stash();
    }

    /// <summary>
    /// A retry of the step last answered for that session (the session resends every 500 ms until answered, and a
    /// catch-up of thousands of messages takes longer than that to send) is answered again without sending its
    /// frames twice. In memory only: after a restart a retry is handled as new, which the steps allow.
    /// </summary>
    private bool AnsweredBefore(TopicCommands.ITopicCommand command)
    {
        if (!_lastAnswered.TryGetValue(command.SessionId, out var opId) || opId != command.OpId) return false;
        Sender.Tell(new TopicReplies.Done(_topicId, command.OpId));
        return true;
    }

    private void Answer(IActorRef replyTo, TopicCommands.ITopicCommand command)
    {
        // Nothing is kept for a session that left: a retry of its unsubscribe finds no member and sends nothing.
        if (command is TopicCommands.Unsubscribe) _lastAnswered.Remove(command.SessionId);
        else _lastAnswered[command.SessionId] = command.OpId;
        replyTo.Tell(new TopicReplies.Done(_topicId, command.OpId));
    }

    private void HandlePublish(TopicCommands.Publish publish)
    {
        var replyTo = Sender;
        var done = new TopicReplies.Done(_topicId, publish.OpId);
        switch (_state.DecidePublish(publish, DateTime.UtcNow))
        {
            case TopicState.Accepted { Event: var published }:
                _nextEvents.Add(published);
                _nextEffects.Add(() => replyTo.Tell(done));
                break;
            case TopicState.Repeat when !Busy:
                replyTo.Tell(done);
                return;
            case TopicState.Repeat:
                // The original may be in the batch being written: answer after it.
                _nextEffects.Add(() => replyTo.Tell(done));
                break;
        }
        if (!_writing) WriteNext();
    }

    /// <summary>
    /// Writes what queued up as one batch; once persisted, delivers it, answers it in order and writes the next.
    /// While a frontend is a full window behind, the queue waits (and keeps growing by the publishes that arrive).
    /// </summary>
    private void WriteNext()
    {
        _writing = false;
        if (_nextEvents.Count == 0 && _nextEffects.Count == 0)
        {
            if (!_holding) return;
            _holding = false;
            Stash.UnstashAll();
            return;
        }
        if (_nextEvents.Count > 0 && DeliveryBlocked())
        {
            RecheckDeliverySoon();
            return;
        }
        var (events, effects) = (_nextEvents, _nextEffects);
        (_nextEvents, _nextEffects) = (new(), new());
        _writing = true;
        if (events.Count == 0)
        {
            Written(events, effects);
            return;
        }
        var remaining = events.Count;
        PersistAllAsync(events, published =>
        {
            _state.Apply(published);
            if (--remaining == 0) Written(events, effects);
        });
    }

    private void ResumeWriting()
    {
        if (!_writing) WriteNext();
    }

    private void Written(List<Published> events, List<Action> effects)
    {
        if (events.Count > 0) Deliver(events);
        foreach (var effect in effects) effect();
        SnapshotIfDue();
        WriteNext();
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

    private bool WindowFull(IActorRef frontend) =>
        _unconfirmed.TryGetValue(frontend, out var sent) && WindowFull(sent, DateTime.UtcNow);

    private static bool WindowFull(Queue<(long Seq, DateTime SentAt)> sent, DateTime now)
    {
        var expired = now - DeliveryTimeout;
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
        if (WindowFull(subscribe.Frontend))
        {
            // Its frontend has not yet written what it was sent: the catch-up waits, and the topic's publishes behind
            // it. Clients rejoining with `since` at once (after an outage, or a frontend's clients moving) otherwise
            // had hundreds of catch-ups (1000 x 150 KB) sent in one burst down one remoting connection; the cluster's
            // heartbeats queued behind them for 2-3 s, and the only backend was downed as unreachable.
            _holding = true;
            Stash.Stash();
            RecheckDeliverySoon();
            return;
        }
        var replyTo = Sender;
        PersistThen(_state.DecideSubscribe(subscribe), joined =>
        {
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
        var history = _state.HistoryFor(subscribe.Since).ToList();
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
        var member = _state.MemberOf(unsubscribe.SessionId);
        PersistThen(_state.DecideUnsubscribe(unsubscribe), left =>
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
        var isMember = _state.MemberOf(rebind.SessionId) is not null;
        PersistThen(_state.DecideRebind(rebind), _ =>
        {
            if (isMember) rebind.Frontend.Tell(new FrontendCommands.Subscribe(_topicId, rebind.SessionId, Frame: null));
            Answer(replyTo, rebind);
        });
    }

    private void HandleSetPresence(TopicCommands.SetPresence set)
    {
        var replyTo = Sender;
        var previous = _state.MemberOf(set.SessionId)?.Presence;
        PersistThen(_state.DecideSetPresence(set), changed =>
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

    /// <summary>Persists the decided event, if any, then applies it and runs <paramref name="then"/>; without one, runs it at once.</summary>
    private void PersistThen<TEvent>(TEvent? @event, Action<TEvent?> then) where TEvent : class, ITopicEvent
    {
        if (@event is null)
        {
            then(null);
            return;
        }
        Persist(@event, persisted =>
        {
            _state.Apply(persisted);
            then(persisted);
            SnapshotIfDue();
        });
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
