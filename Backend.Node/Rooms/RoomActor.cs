using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.RoomEvents;

namespace SocketStarter.Backend.Rooms;

/// <summary>
/// Runs one chat room's <see cref="RoomState"/>. Posts are committed in groups: while one batch is being written,
/// the room keeps taking posts, and what arrived meanwhile is written next as one journal write; then each post
/// of the batch is delivered and answered, in <c>seq</c> order. Nothing is answered or delivered before it is
/// persisted. Membership changes (rare) wait until no post is being written, so a batch never straddles one.
/// Deliveries go once to each frontend node with members.
/// </summary>
public sealed class RoomActor : ReceivePersistentActor
{
    private const int SnapshotEvery = 500;

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
        Recover<IWireMessage>(_state.Apply);

        Command<RoomCommands.Post>(post => { if (_holding) Stash.Stash(); else HandlePost(post); });
        Command<RoomCommands.Join>(join => WhenWritten(() => HandleJoin(join)));
        Command<RoomCommands.Leave>(leave => WhenWritten(() => HandleLeave(leave)));
        Command<RoomCommands.Rebind>(rebind => WhenWritten(() => HandleRebind(rebind)));
        Command<RoomCommands.Rename>(rename => WhenWritten(() => HandleRename(rename)));
        Command<RoomQueries.GetMemberCount>(_ => Sender.Tell(new RoomQueries.MemberCount(_roomId, _state.MemberCount)));
        Command<SaveSnapshotSuccess>(success =>
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
        // Hand-off: the batch being written is delivered and answered first.
        Command<StopEntity>(_ => WhenWritten(() => HandOff.Stop(Context)));
    }

    public override string PersistenceId => $"room-{_roomId}";

    private void WhenWritten(Action handle)
    {
        if (!_writing)
        {
            handle();
            return;
        }
        _holding = true;
        Stash.Stash();
    }

    private void HandlePost(RoomCommands.Post post)
    {
        var replyTo = Sender;
        var done = new RoomReplies.Done(_roomId, post.OpId);
        switch (_state.DecidePost(post, DateTime.UtcNow))
        {
            case RoomState.Accepted { Event: var posted }:
                _nextEvents.Add(posted);
                _nextEffects.Add(() =>
                {
                    Broadcast(posted.Message.Seq, ServerFrames.Message(_roomId, posted.Message), exceptSessionId: null);
                    replyTo.Tell(done);
                });
                break;
            case RoomState.Repeat when !_writing:
                replyTo.Tell(done);
                return;
            case RoomState.Repeat:
                // The original may be in the batch being written: answer after it.
                _nextEffects.Add(() => replyTo.Tell(done));
                break;
        }
        if (!_writing) WriteNext();
    }

    /// <summary>Writes what queued up as one batch; once persisted, runs its effects in order and writes the next.</summary>
    private void WriteNext()
    {
        if (_nextEvents.Count == 0 && _nextEffects.Count == 0)
        {
            _writing = false;
            if (!_holding) return;
            _holding = false;
            Stash.UnstashAll();
            return;
        }
        var (events, effects) = (_nextEvents, _nextEffects);
        (_nextEvents, _nextEffects) = (new(), new());
        _writing = true;
        if (events.Count == 0)
        {
            Written(effects);
            return;
        }
        var remaining = events.Count;
        PersistAllAsync(events, posted =>
        {
            _state.Apply(posted);
            if (--remaining == 0) Written(effects);
        });
    }

    private void Written(List<Action> effects)
    {
        foreach (var effect in effects) effect();
        SnapshotIfDue();
        WriteNext();
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
                Broadcast(0, ServerFrames.Presence(_roomId, joined: join.Name, left: null), exceptSessionId: join.SessionId);
        });
    }

    private void AnswerJoin(RoomCommands.Join join, IActorRef replyTo)
    {
        var frame = ServerFrames.Joined(_roomId, _state.MemberNames, _state.HistoryFor(join.Since));
        join.Frontend.Tell(new FrontendCommands.Subscribe(_roomId, join.SessionId, frame));
        replyTo.Tell(new RoomReplies.Done(_roomId, join.OpId));
    }

    private void HandleLeave(RoomCommands.Leave leave)
    {
        var replyTo = Sender;
        var member = _state.MemberOf(leave.SessionId);
        PersistThen(_state.DecideLeave(leave), left =>
        {
            if (left is not null && member is not null)
            {
                member.Frontend.Tell(new FrontendCommands.Unsubscribe(_roomId, leave.SessionId, leave.Expired ? null : ServerFrames.Left(_roomId)));
                Broadcast(0, ServerFrames.Presence(_roomId, joined: null, left: member.Name), exceptSessionId: leave.SessionId);
            }
            replyTo.Tell(new RoomReplies.Done(_roomId, leave.OpId));
        });
    }

    private void HandleRebind(RoomCommands.Rebind rebind)
    {
        var replyTo = Sender;
        var isMember = _state.MemberOf(rebind.SessionId) is not null;
        PersistThen(_state.DecideRebind(rebind), _ =>
        {
            if (isMember) rebind.Frontend.Tell(new FrontendCommands.Subscribe(_roomId, rebind.SessionId, Frame: null));
            replyTo.Tell(new RoomReplies.Done(_roomId, rebind.OpId));
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
                Broadcast(0, ServerFrames.Presence(_roomId, joined: null, left: previousName), exceptSessionId: rename.SessionId);
                Broadcast(0, ServerFrames.Presence(_roomId, joined: rename.Name, left: null), exceptSessionId: rename.SessionId);
            }
            replyTo.Tell(new RoomReplies.Done(_roomId, rename.OpId));
        });
    }

    /// <summary>One copy per frontend node that has members here; the frontend fans it out locally.</summary>
    private void Broadcast(long seq, string frame, string? exceptSessionId)
    {
        var command = new FrontendCommands.RoomFrame(_roomId, seq, frame, exceptSessionId);
        foreach (var frontend in _state.FrontendsExcept(exceptSessionId))
            frontend.Tell(command);
    }

    /// <summary>Persists the decided event, if any, then applies it and runs <paramref name="then"/>; without one, runs it at once.</summary>
    private void PersistThen<TEvent>(TEvent? @event, Action<TEvent?> then) where TEvent : class, IWireMessage
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
