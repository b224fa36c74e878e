using System.Text;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.RoomEvents;

namespace SocketStarter.Backend.Rooms;

/// <summary>
/// Runs one chat room's <see cref="RoomState"/>. Posts are committed in groups: while one batch is being written,
/// the room keeps taking posts, and what arrived meanwhile is written next as one journal write; then the batch is
/// delivered (one <see cref="FrontendCommands.RoomMessages"/> per frontend node with members) and each post is
/// answered, in <c>seq</c> order. Nothing is answered or delivered before it is persisted. Membership changes
/// (rare) wait until no post is queued or being written, so a batch never straddles one.
/// Backpressure: a frontend confirms each batch once it is in its members' queues; while a frontend has
/// <see cref="DeliveryWindow"/> batches unconfirmed, the room writes no new batch, so the posts wait unanswered,
/// and the clients' frames queue at their frontends (held, or past <c>MAX_QUEUED_WHILE_BUSY</c> refused <c>rate_limited</c>).
/// </summary>
public sealed class RoomActor : ReceivePersistentActor, IWithTimers
{
    private const int SnapshotEvery = 500;
    /// <summary>Batches a frontend may have unconfirmed before the room stops writing new ones.</summary>
    public const int DeliveryWindow = 4;
    /// <summary>An unconfirmed batch older than this no longer holds the room back (its frontend may be gone).</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(2);
    private const string DeliveryTimer = "delivery";

    private readonly string _roomId;
    private readonly RoomState _state = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Posts decided while a batch is being written, and what to do, in order, once they are persisted.</summary>
    private List<MessagePosted> _nextEvents = new();
    private List<Action> _nextEffects = new();
    private bool _writing;
    /// <summary>A command waits in the stash for the writes to finish; posts queue up behind it to keep their order.</summary>
    private bool _holding;
    private long _snapshotAt;
    /// <summary>Per frontend node: the batches sent and not yet confirmed, oldest first (last seq, when sent).</summary>
    private readonly Dictionary<IActorRef, Queue<(long Seq, DateTime SentAt)>> _unconfirmed = new();
    /// <summary>Per session, the step (join, leave, rebind, rename) last answered: see <see cref="AnsweredBefore"/>.</summary>
    private readonly Dictionary<string, long> _lastAnswered = new();
    /// <summary>Fan-outs known to be gone (their node stopped or was downed): nothing they were sent holds the room back.</summary>
    private readonly HashSet<IActorRef> _goneFrontends = new();

    private sealed record CheckDelivery
    {
        public static readonly CheckDelivery Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string roomId) => Akka.Actor.Props.Create(() => new RoomActor(roomId));

    public RoomActor(string roomId)
    {
        _roomId = roomId;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not RoomSnapshot snapshot) return;
            _state.Restore(snapshot);
            _snapshotAt = offer.Metadata.SequenceNr;
        });
        Recover<IRoomEvent>(_state.Apply);

        Command<RoomCommands.Post>(post => { if (_holding) Stash.Stash(); else HandlePost(post); });
        Command<RoomCommands.Join>(join => { if (!AnsweredBefore(join)) WhenWritten(() => HandleJoin(join)); });
        Command<RoomCommands.Leave>(leave => { if (!AnsweredBefore(leave)) WhenWritten(() => HandleLeave(leave)); });
        Command<RoomCommands.Rebind>(rebind => { if (!AnsweredBefore(rebind)) WhenWritten(() => HandleRebind(rebind)); });
        Command<RoomCommands.Rename>(rename => { if (!AnsweredBefore(rename)) WhenWritten(() => HandleRename(rename)); });
        Command<RoomQueries.GetMemberCount>(_ => Sender.Tell(new RoomQueries.MemberCount(_roomId, _state.MemberCount)));
        Command<RoomCommands.Delivered>(delivered =>
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

    public override string PersistenceId => $"room-{_roomId}";

    /// <summary>Posts are queued or being written: the state does not yet hold them.</summary>
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
    private bool AnsweredBefore(RoomCommands.IRoomCommand command)
    {
        if (!_lastAnswered.TryGetValue(command.SessionId, out var opId) || opId != command.OpId) return false;
        Sender.Tell(new RoomReplies.Done(_roomId, command.OpId));
        return true;
    }

    private void Answer(IActorRef replyTo, RoomCommands.IRoomCommand command)
    {
        // Nothing is kept for a session that left: a retry of its leave finds no member and sends nothing.
        if (command is RoomCommands.Leave) _lastAnswered.Remove(command.SessionId);
        else _lastAnswered[command.SessionId] = command.OpId;
        replyTo.Tell(new RoomReplies.Done(_roomId, command.OpId));
    }

    private void HandlePost(RoomCommands.Post post)
    {
        var replyTo = Sender;
        var done = new RoomReplies.Done(_roomId, post.OpId);
        switch (_state.DecidePost(post, DateTime.UtcNow))
        {
            case RoomState.Accepted { Event: var posted }:
                _nextEvents.Add(posted);
                _nextEffects.Add(() => replyTo.Tell(done));
                break;
            case RoomState.Repeat when !Busy:
                replyTo.Tell(done);
                return;
            case RoomState.Repeat:
                // The original may be in the batch being written: answer after it.
                _nextEffects.Add(() => replyTo.Tell(done));
                break;
        }
        if (!_writing) WriteNext();
    }

    /// <summary>
    /// Writes what queued up as one batch; once persisted, delivers it, answers it in order and writes the next.
    /// While a frontend is a full window behind, the queue waits (and keeps growing by the posts that arrive).
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
            Timers.StartSingleTimer(DeliveryTimer, CheckDelivery.Instance, TimeSpan.FromMilliseconds(100));
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
        PersistAllAsync(events, posted =>
        {
            _state.Apply(posted);
            if (--remaining == 0) Written(events, effects);
        });
    }

    private void ResumeWriting()
    {
        if (!_writing) WriteNext();
    }

    private void Written(List<MessagePosted> events, List<Action> effects)
    {
        if (events.Count > 0) Deliver(events);
        foreach (var effect in effects) effect();
        SnapshotIfDue();
        WriteNext();
    }

    /// <summary>One message per frontend node with members, the whole batch in seq order.</summary>
    private void Deliver(List<MessagePosted> events)
    {
        var frames = events.Select(e => new FrontendCommands.RoomFrame(_roomId, e.Message.Seq, ServerFrames.Message(_roomId, e.Message), null)).ToList();
        var batch = new FrontendCommands.RoomMessages(_roomId, frames);
        var lastSeq = frames[^1].Seq;
        var now = DateTime.UtcNow;
        foreach (var frontend in _state.FrontendsExcept(null))
        {
            frontend.Tell(batch);
            if (_goneFrontends.Contains(frontend)) continue;
            if (!_unconfirmed.TryGetValue(frontend, out var sent))
            {
                _unconfirmed[frontend] = sent = new();
                Context.Watch(frontend);
            }
            sent.Enqueue((lastSeq, now));
        }
    }

    /// <summary>Some frontend has a full window of batches unconfirmed (those past the timeout no longer count).</summary>
    private bool DeliveryBlocked()
    {
        var expired = DateTime.UtcNow - DeliveryTimeout;
        var blocked = false;
        foreach (var (frontend, sent) in _unconfirmed)
        {
            while (sent.TryPeek(out var batch) && batch.SentAt < expired) sent.Dequeue();
            if (sent.Count >= DeliveryWindow) blocked = true;
        }
        foreach (var idle in _unconfirmed.Where(pair => pair.Value.Count == 0).Select(pair => pair.Key).ToList()) _unconfirmed.Remove(idle);
        return blocked;
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // A batch that cannot be written would hold the room forever: start over from the journal; senders retry.
        _log.Error(cause, "Room {0}: the journal rejected an event; restarting the room", _roomId);
        throw new InvalidOperationException($"Room {_roomId}: event {sequenceNr} rejected by the journal", cause);
    }

    private void HandleJoin(RoomCommands.Join join)
    {
        var replyTo = Sender;
        PersistThen(_state.DecideJoin(join), joined =>
        {
            AnswerJoin(join, replyTo);
            if (joined is MemberJoined)
                BroadcastPresence(ServerFrames.Presence(_roomId, joined: join.Name, left: null), exceptSessionId: join.SessionId);
        });
    }

    /// <summary>
    /// The <c>joined</c> frame holds the catch-up up to <see cref="JoinedHistoryBytes"/>; the rest follows at once as
    /// <c>message</c> frames to that session, before any newer message (this actor sends them in order). A thousand
    /// long messages in one frame would pass remoting's 16 MiB limit and be dropped; an ordinary catch-up (1000
    /// messages of up to 2 KB) stays one frame, as clients that predate the split expect.
    /// </summary>
    private void AnswerJoin(RoomCommands.Join join, IActorRef replyTo)
    {
        var history = _state.HistoryFor(join.Since).ToList();
        var fits = 0;
        for (var bytes = 0; fits < history.Count; fits++)
        {
            var message = history[fits];
            bytes += Encoding.UTF8.GetByteCount(message.Text) + message.From.Length + (message.ClientMessageId?.Length ?? 0) + MessageFieldsBytes;
            if (bytes > JoinedHistoryBytes) break;
        }
        var frame = ServerFrames.Joined(_roomId, _state.MemberNames, history.Take(fits), more: fits < history.Count);
        join.Frontend.Tell(new FrontendCommands.Subscribe(_roomId, join.SessionId, frame));
        foreach (var message in history.Skip(fits))
            join.Frontend.Tell(new FrontendCommands.ToSession(join.SessionId, ServerFrames.Message(_roomId, message)));
        Answer(replyTo, join);
    }

    /// <summary>2 MiB of text: with JSON escaping twice over (frame, then wire) at worst 8 MiB of remoting frame.</summary>
    private const int JoinedHistoryBytes = 2 * 1024 * 1024;
    /// <summary>A message's field names, room, seq and timestamp in its JSON.</summary>
    private const int MessageFieldsBytes = 100;

    private void HandleLeave(RoomCommands.Leave leave)
    {
        var replyTo = Sender;
        var member = _state.MemberOf(leave.SessionId);
        PersistThen(_state.DecideLeave(leave), left =>
        {
            if (left is not null && member is not null)
            {
                member.Frontend.Tell(new FrontendCommands.Unsubscribe(_roomId, leave.SessionId, leave.Expired ? null : ServerFrames.Left(_roomId)));
                BroadcastPresence(ServerFrames.Presence(_roomId, joined: null, left: member.Name), exceptSessionId: leave.SessionId);
            }
            Answer(replyTo, leave);
        });
    }

    private void HandleRebind(RoomCommands.Rebind rebind)
    {
        var replyTo = Sender;
        var isMember = _state.MemberOf(rebind.SessionId) is not null;
        PersistThen(_state.DecideRebind(rebind), _ =>
        {
            if (isMember) rebind.Frontend.Tell(new FrontendCommands.Subscribe(_roomId, rebind.SessionId, Frame: null));
            Answer(replyTo, rebind);
        });
    }

    private void HandleRename(RoomCommands.Rename rename)
    {
        var replyTo = Sender;
        var previousName = _state.MemberOf(rename.SessionId)?.Name;
        PersistThen(_state.DecideRename(rename), renamed =>
        {
            if (renamed is not null)
            {
                BroadcastPresence(ServerFrames.Presence(_roomId, joined: null, left: previousName), exceptSessionId: rename.SessionId);
                BroadcastPresence(ServerFrames.Presence(_roomId, joined: rename.Name, left: null), exceptSessionId: rename.SessionId);
            }
            Answer(replyTo, rename);
        });
    }

    /// <summary>A presence frame (no seq), one copy per frontend node with other members; chat messages go by <see cref="Deliver"/>.</summary>
    private void BroadcastPresence(string frame, string exceptSessionId)
    {
        var command = new FrontendCommands.RoomFrame(_roomId, 0, frame, exceptSessionId);
        foreach (var frontend in _state.FrontendsExcept(exceptSessionId))
            frontend.Tell(command);
    }

    /// <summary>Persists the decided event, if any, then applies it and runs <paramref name="then"/>; without one, runs it at once.</summary>
    private void PersistThen<TEvent>(TEvent? @event, Action<TEvent?> then) where TEvent : class, IRoomEvent
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
        _snapshotAt = LastSequenceNr;
        SaveSnapshot(_state.ToSnapshot());
    }
}
