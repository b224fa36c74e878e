using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Backend.Sessions;

/// <param name="MaxRooms">Rooms one session may be in at once: each costs a membership in a room entity and a
/// presence frame to every other member, so one client must not hold thousands.</param>
public sealed record SessionSettings(TimeSpan ResumeWindow, TimeSpan RetryInterval, int MaxRooms);

/// <summary>
/// One client session: its name, its rooms, and which connection carries it. It applies the client's frames
/// in the order sent and acknowledges each only after every effect is persisted (here, in the room, or in the
/// name registry), so the frontend can retry until acknowledged and nothing it read is lost or applied twice.
/// </summary>
public sealed class SessionActor : ReceivePersistentActor, IWithTimers
{
    private const string RetryTimer = "retry";
    private const string ExpiryTimer = "expiry";

    private readonly string _sessionId;
    private readonly IActorRef _rooms;
    private readonly IActorRef _names;
    private readonly SessionSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly SessionState _state;

    /// <summary>Last applied envelope per connection: retries at or below it are repeats. In memory only:
    /// after a restart, repeats are harmless because every step below is idempotent.</summary>
    private readonly Dictionary<string, long> _appliedSeqNo = new();

    private long _nextOpId = Random.Shared.NextInt64(1, long.MaxValue / 2);
    private PendingOperation? _pending;

    private sealed record PendingOperation(long OpId, IActorRef Target, IEntityOperation Command, Action<object> OnReply);
    private sealed record RetryOperation;
    private sealed record ExpireSession;

    public static Props Props(string sessionId, IActorRef rooms, IActorRef names, SessionSettings settings) =>
        Akka.Actor.Props.Create(() => new SessionActor(sessionId, rooms, names, settings));

    public SessionActor(string sessionId, IActorRef rooms, IActorRef names, SessionSettings settings)
    {
        _sessionId = sessionId;
        _rooms = rooms;
        _names = names;
        _settings = settings;
        _state = new SessionState(settings);

        Recover<ISessionEvent>(Apply);
        Recover<RecoveryCompleted>(_ => OnRecovered());

        // One set of handlers for the entity's life: while a step waits for another entity's answer, everything
        // but the answers waits in the stash (Become would build a new set of handlers twice per client frame).
        Command<RoomReplies.Done>(done => Complete(done.OpId, done));
        Command<NameReplies.ClaimResult>(result => Complete(result.OpId, result));
        Command<NameReplies.Released>(released => Complete(released.OpId, released));
        Command<RetryOperation>(_ => _pending?.Target.Tell(_pending.Command));
        // A hand-off may stop the entity mid-step: the frontend retries the envelope and every step is idempotent.
        Command<StopEntity>(_ => HandOff.Stop(Context));
        Command<Attach>(attach => { if (!StashWhileWaiting()) HandleAttach(attach); });
        Command<ClientFrame>(frame => { if (!StashWhileWaiting()) Once(frame, () => HandleFrameGuarded(frame)); });
        Command<Detach>(detach => { if (!StashWhileWaiting()) Once(detach, () => HandleDetach(detach)); });
        Command<Terminated>(terminated =>
        {
            if (!StashWhileWaiting() && _state.DecideFrontendLost(terminated.ActorRef, DateTime.UtcNow) is { } detached)
                PersistDetached(detached, () => { });
        });
        Command<ExpireSession>(_ => { if (!StashWhileWaiting()) EndIfExpired(); });
    }

    public override string PersistenceId => $"session-{_sessionId}";
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>While another entity works on a step, the next commands wait; answers and retries do not.</summary>
    private bool StashWhileWaiting()
    {
        if (_pending is null) return false;
        Stash.Stash();
        return true;
    }

    private void Call(IActorRef target, Func<long, IEntityOperation> build, Action<object> onReply)
    {
        var command = build(++_nextOpId);
        _pending = new PendingOperation(command.OpId, target, command, onReply);
        target.Tell(command);
        Timers.StartPeriodicTimer(RetryTimer, new RetryOperation(), _settings.RetryInterval);
    }

    private void Complete(long opId, object reply)
    {
        if (_pending is not { } pending || pending.OpId != opId) return;
        _pending = null;
        Timers.Cancel(RetryTimer);
        pending.OnReply(reply);
        if (_pending is null) Stash.UnstashAll();
    }

    /// <summary>Runs the steps one after another, then <paramref name="done"/>.</summary>
    private void CallEach<T>(IEnumerable<T> items, IActorRef target, Func<T, long, IEntityOperation> build, Action done)
    {
        var list = items.ToList();
        CallNext(0);

        void CallNext(int index)
        {
            if (index >= list.Count)
                done();
            else
                Call(target, opId => build(list[index], opId), _ => CallNext(index + 1));
        }
    }

    private void Once(ISessionEnvelope envelope, Action apply)
    {
        if (_appliedSeqNo.TryGetValue(envelope.ConnectionId, out var applied) && envelope.SeqNo <= applied)
        {
            Acknowledge(envelope);
            return;
        }
        if (!_state.Started)
        {
            // The session ended (or never started): nobody is left to answer.
            Acknowledge(envelope);
            Passivate();
            return;
        }
        apply();
    }

    private void Acknowledge(ISessionEnvelope envelope)
    {
        _appliedSeqNo[envelope.ConnectionId] = Math.Max(envelope.SeqNo, _appliedSeqNo.GetValueOrDefault(envelope.ConnectionId));
        envelope.Frontend.Tell(new FrontendCommands.Acknowledged(_sessionId, envelope.ConnectionId, envelope.SeqNo));
    }

    private void HandleAttach(Attach attach)
    {
        if (_appliedSeqNo.TryGetValue(attach.ConnectionId, out var applied) && attach.SeqNo <= applied)
        {
            Acknowledge(attach);
            return;
        }
        switch (_state.DecideAttach(attach))
        {
            case SessionState.AttachRefused refused:
                attach.Frontend.Tell(new FrontendCommands.ResumeRefused(_sessionId, attach.ConnectionId, attach.SeqNo));
                // A wrong secret changes nothing for the session's owner: only an entity that holds no session stops.
                if (refused.HoldsNoSession) Passivate();
                break;
            case SessionState.AttachAccepted accepted:
                PersistAllThen(accepted.Events, () =>
                {
                    if (accepted.TakenOver is not null) accepted.TakenOverFrontend?.Tell(accepted.TakenOver);
                    Timers.Cancel(ExpiryTimer);
                    // A resumed session (same frontend or another) must be subscribed again to its rooms' deliveries.
                    if (accepted.RebindRooms)
                        CallEach(_state.Rooms, _rooms, (room, opId) => new RoomCommands.Rebind(room, _sessionId, opId, attach.Frontend),
                            () => Acknowledge(attach));
                    else
                        Acknowledge(attach);
                });
                break;
        }
    }

    private void HandleDetach(Detach detach)
    {
        if (_state.DecideDetach(detach.ConnectionId, DateTime.UtcNow) is not { } detached)
        {
            Acknowledge(detach);
            return;
        }
        PersistDetached(detached, () =>
        {
            Acknowledge(detach);
            if (detach.EndSession) End();
        });
    }

    private void PersistDetached(SessionEvents.Detached detached, Action then) =>
        PersistAllThen([detached], () =>
        {
            ScheduleExpiry();
            then();
        });

    /// <summary>Persists the events in one write, applies each, then runs <paramref name="then"/>.</summary>
    private void PersistAllThen(IReadOnlyList<ISessionEvent> events, Action then)
    {
        var remaining = events.Count;
        PersistAll(events, persisted =>
        {
            Apply(persisted);
            if (--remaining == 0) then();
        });
    }

    /// <summary>No client frame can restart the session: a failure answers that frame and loses nothing else.</summary>
    private void HandleFrameGuarded(ClientFrame frame)
    {
        try
        {
            HandleFrame(frame);
        }
        catch (Exception ex)
        {
            _log.Error(ex, "Session {0}: a client frame failed; answered internal_error", _sessionId);
            if (_pending is not null)
            {
                _pending = null;
                Timers.Cancel(RetryTimer);
                Stash.UnstashAll();
            }
            Reply(frame, ServerFrames.Error(ErrorCodes.InternalError, "The service could not handle this frame; it was not applied.", null));
            Acknowledge(frame);
        }
    }

    private void HandleFrame(ClientFrame frame)
    {
        switch (_state.DecideFrame(ClientRequest.Parse(frame.Payload)))
        {
            case SessionState.Reject reject:
                RejectAndAcknowledge(frame, reject);
                break;
            case SessionState.AlreadyRegistered registered:
                Reply(frame, ServerFrames.Registered(registered.Name));
                Acknowledge(frame);
                break;
            case SessionState.ClaimName claim:
                ClaimName(frame, claim);
                break;
            case SessionState.JoinRoom join:
                Call(_rooms, opId => new RoomCommands.Join(join.Room, _sessionId, opId, join.Name, frame.Frontend, join.Since), _ =>
                {
                    if (join.AlreadyJoined)
                        Acknowledge(frame);
                    else
                        PersistAllThen([new SessionEvents.RoomJoined(join.Room)], () => Acknowledge(frame));
                });
                break;
            case SessionState.LeaveRoom leave:
                Call(_rooms, opId => new RoomCommands.Leave(leave.Room, _sessionId, opId, Expired: false), _ =>
                    PersistAllThen([new SessionEvents.RoomLeft(leave.Room)], () => Acknowledge(frame)));
                break;
            case SessionState.PostToRoom post:
                Call(_rooms, opId => new RoomCommands.Post(post.Room, _sessionId, opId, post.Name, post.Text, post.ClientMessageId,
                    $"{frame.ConnectionId}:{frame.SeqNo}"), _ => Acknowledge(frame));
                break;
        }
    }

    private void ClaimName(ClientFrame frame, SessionState.ClaimName claim)
    {
        Call(_names, opId => new NameCommands.Claim(claim.NameKey, _sessionId, opId), reply =>
        {
            if (reply is NameReplies.ClaimResult { Granted: false })
            {
                RejectAndAcknowledge(frame, SessionState.NameTaken(claim.Name));
                return;
            }
            PersistAllThen([new SessionEvents.NameSet(claim.Name)], () =>
            {
                void Finish() => CallEach(_state.Rooms, _rooms, (room, opId) => new RoomCommands.Rename(room, _sessionId, opId, claim.Name), () =>
                {
                    Reply(frame, ServerFrames.Registered(claim.Name));
                    Acknowledge(frame);
                });
                if (claim.ReleaseKey is { } releaseKey)
                    Call(_names, opId => new NameCommands.Release(releaseKey, _sessionId, opId), _ => Finish());
                else
                    Finish();
            });
        });
    }

    private void RejectAndAcknowledge(ClientFrame frame, SessionState.Reject reject)
    {
        Reply(frame, ServerFrames.Error(reject.Code, reject.Message, reject.Ref));
        Acknowledge(frame);
    }

    private void Reply(ISessionEnvelope envelope, string clientFrame) =>
        envelope.Frontend.Tell(new FrontendCommands.ToSession(_sessionId, clientFrame));

    private void ScheduleExpiry()
    {
        if (_state.ExpiresAt is not { } expiresAt) return;
        var remaining = expiresAt - DateTime.UtcNow;
        Timers.StartSingleTimer(ExpiryTimer, new ExpireSession(), remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
    }

    private void EndIfExpired()
    {
        if (!_state.HasExpired(DateTime.UtcNow)) return;
        _log.Info("Session {0} expired", _sessionId);
        End();
    }

    /// <summary>Leaves every room (presence is sent), frees the name, and ends for good.</summary>
    private void End()
    {
        Timers.Cancel(ExpiryTimer);
        CallEach(_state.Rooms.ToList(), _rooms, (room, opId) => new RoomCommands.Leave(room, _sessionId, opId, Expired: true), () =>
        {
            void Ended() => PersistAllThen([SessionEvents.Ended.Instance], Passivate);
            if (_state.Name is { } name)
                Call(_names, opId => new NameCommands.Release(SessionState.NameKey(name), _sessionId, opId), _ => Ended());
            else
                Ended();
        });
    }

    private void OnRecovered()
    {
        if (!_state.Started) return;
        if (_state.DetachedAt is not null)
            ScheduleExpiry();
        else if (_state.Frontend is not null)
            Context.Watch(_state.Frontend); // a frontend that died without detaching: expire its sessions
    }

    /// <summary>Remember-entities restarts a stopped entity; passivation is how a session ends for good.</summary>
    private void Passivate() => Context.Parent.Tell(new Passivate(StopEntity.Instance));

    /// <summary>Applies the event; the frontend that carries the session is watched, so its death detaches it.</summary>
    private void Apply(ISessionEvent @event)
    {
        var previousFrontend = _state.Frontend;
        _state.Apply(@event);
        if (@event is not SessionEvents.Attached) return;
        if (previousFrontend is not null && !Equals(previousFrontend, _state.Frontend)) Context.Unwatch(previousFrontend);
        if (IsRecoveryFinished) Context.Watch(_state.Frontend!);
    }
}
