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

    private string? _tokenHash;
    private bool _ended;
    private string? _name;
    private readonly SortedSet<string> _joinedRooms = new(StringComparer.Ordinal);
    private string? _connectionId;
    private IActorRef? _frontend;
    private DateTime? _detachedAt;

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

        Recover<SessionEvents.Started>(Apply);
        Recover<SessionEvents.Attached>(Apply);
        Recover<SessionEvents.Detached>(Apply);
        Recover<SessionEvents.NameSet>(Apply);
        Recover<SessionEvents.RoomJoined>(Apply);
        Recover<SessionEvents.RoomLeft>(Apply);
        Recover<SessionEvents.Ended>(Apply);
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
            if (StashWhileWaiting()) return;
            if (Equals(terminated.ActorRef, _frontend) && _detachedAt is null && _connectionId is { } connectionId)
                PersistDetached(connectionId, () => { });
        });
        Command<ExpireSession>(_ => { if (!StashWhileWaiting()) EndIfExpired(); });
    }

    public override string PersistenceId => $"session-{_sessionId}";
    public ITimerScheduler Timers { get; set; } = null!;

    private bool Started => _tokenHash is not null && !_ended;

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
        if (!Started)
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

        if (attach.NewTokenHash is { } tokenHash)
        {
            if (_tokenHash is null)
                Persist(new SessionEvents.Started(tokenHash), started => { Apply(started); AttachConnection(attach); });
            else
                AttachConnection(attach);
            return;
        }

        if (!Started || attach.ResumeSecret is null || !ResumeToken.Verify(attach.ResumeSecret, _tokenHash!))
        {
            attach.Frontend.Tell(new FrontendCommands.ResumeRefused(_sessionId, attach.ConnectionId, attach.SeqNo));
            // A wrong secret changes nothing for the session's owner: only an entity that holds no session stops.
            if (!Started) Passivate();
            return;
        }
        AttachConnection(attach);
    }

    private void AttachConnection(Attach attach)
    {
        // A resumed session (same frontend or another) must be subscribed again to its rooms' deliveries.
        var rebind = _frontend is not null;
        // One live connection per session: one still open (the same token resumed twice) is closed.
        var takenOver = _detachedAt is null && _connectionId is { } open && open != attach.ConnectionId
            ? new FrontendCommands.TakenOver(_sessionId, open) : null;
        var openFrontend = _frontend;
        Persist(new SessionEvents.Attached(attach.ConnectionId, attach.Frontend), attached =>
        {
            Apply(attached);
            if (takenOver is not null) openFrontend?.Tell(takenOver);
            Timers.Cancel(ExpiryTimer);
            if (rebind)
                CallEach(_joinedRooms, _rooms, (room, opId) => new RoomCommands.Rebind(room, _sessionId, opId, attach.Frontend),
                    () => Acknowledge(attach));
            else
                Acknowledge(attach);
        });
    }

    private void HandleDetach(Detach detach)
    {
        if (detach.ConnectionId != _connectionId || _detachedAt is not null)
        {
            Acknowledge(detach);
            return;
        }
        PersistDetached(detach.ConnectionId, () =>
        {
            Acknowledge(detach);
            if (detach.EndSession) End();
        });
    }

    private void PersistDetached(string connectionId, Action then)
    {
        Persist(new SessionEvents.Detached(connectionId, DateTime.UtcNow), detached =>
        {
            Apply(detached);
            ScheduleExpiry();
            then();
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
        switch (ClientRequest.Parse(frame.Payload))
        {
            case ClientRequest.Rejected rejected:
                Reply(frame, ServerFrames.Error(rejected.Code, rejected.Message, rejected.Ref));
                Acknowledge(frame);
                break;
            case ClientRequest.Register register:
                HandleRegister(frame, register.Name);
                break;
            case ClientRequest.Join join when _name is null:
                RejectAndAcknowledge(frame, ErrorCodes.NotRegistered, "Register a name before joining a room.", "join");
                break;
            case ClientRequest.Join join when !_joinedRooms.Contains(join.Room) && _joinedRooms.Count >= _settings.MaxRooms:
                RejectAndAcknowledge(frame, ErrorCodes.TooManyRooms, $"A session is in at most {_settings.MaxRooms} rooms; leave one first.", "join");
                break;
            case ClientRequest.Join join:
                Call(_rooms, opId => new RoomCommands.Join(join.Room, _sessionId, opId, _name, frame.Frontend, join.Since), _ =>
                {
                    if (_joinedRooms.Contains(join.Room))
                        Acknowledge(frame);
                    else
                        Persist(new SessionEvents.RoomJoined(join.Room), joined => { Apply(joined); Acknowledge(frame); });
                });
                break;
            case ClientRequest.Leave leave when !_joinedRooms.Contains(leave.Room):
                RejectAndAcknowledge(frame, ErrorCodes.NotJoined, $"You are not in room '{leave.Room}'.", "leave");
                break;
            case ClientRequest.Leave leave:
                Call(_rooms, opId => new RoomCommands.Leave(leave.Room, _sessionId, opId, Expired: false), _ =>
                    Persist(new SessionEvents.RoomLeft(leave.Room), left => { Apply(left); Acknowledge(frame); }));
                break;
            case ClientRequest.Say say when !_joinedRooms.Contains(say.Room):
                RejectAndAcknowledge(frame, ErrorCodes.NotJoined, $"Join room '{say.Room}' before saying something in it.", "say");
                break;
            case ClientRequest.Say say:
                Call(_rooms, opId => new RoomCommands.Post(say.Room, _sessionId, opId, _name!, say.Text, say.Id,
                    $"{frame.ConnectionId}:{frame.SeqNo}"), _ => Acknowledge(frame));
                break;
        }
    }

    private void HandleRegister(ClientFrame frame, string name)
    {
        if (name == _name)
        {
            Reply(frame, ServerFrames.Registered(name));
            Acknowledge(frame);
            return;
        }

        var previousKey = _name is null ? null : NameKey(_name);
        Call(_names, opId => new NameCommands.Claim(NameKey(name), _sessionId, opId), reply =>
        {
            if (reply is NameReplies.ClaimResult { Granted: false })
            {
                RejectAndAcknowledge(frame, ErrorCodes.NameTaken, $"The name '{name}' is taken.", "register");
                return;
            }
            Persist(new SessionEvents.NameSet(name), set =>
            {
                Apply(set);
                void Finish() => CallEach(_joinedRooms, _rooms, (room, opId) => new RoomCommands.Rename(room, _sessionId, opId, name), () =>
                {
                    Reply(frame, ServerFrames.Registered(name));
                    Acknowledge(frame);
                });
                if (previousKey is not null && previousKey != NameKey(name))
                    Call(_names, opId => new NameCommands.Release(previousKey, _sessionId, opId), _ => Finish());
                else
                    Finish();
            });
        });
    }

    private void RejectAndAcknowledge(ClientFrame frame, string code, string message, string reference)
    {
        Reply(frame, ServerFrames.Error(code, message, reference));
        Acknowledge(frame);
    }

    private void Reply(ISessionEnvelope envelope, string clientFrame) =>
        envelope.Frontend.Tell(new FrontendCommands.ToSession(_sessionId, clientFrame));

    private void ScheduleExpiry()
    {
        if (_detachedAt is not { } detachedAt) return;
        var remaining = detachedAt + _settings.ResumeWindow - DateTime.UtcNow;
        Timers.StartSingleTimer(ExpiryTimer, new ExpireSession(), remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
    }

    private void EndIfExpired()
    {
        if (!Started || _detachedAt is not { } detachedAt || DateTime.UtcNow < detachedAt + _settings.ResumeWindow) return;
        _log.Info("Session {0} expired", _sessionId);
        End();
    }

    /// <summary>Leaves every room (presence is sent), frees the name, and ends for good.</summary>
    private void End()
    {
        Timers.Cancel(ExpiryTimer);
        CallEach(_joinedRooms.ToList(), _rooms, (room, opId) => new RoomCommands.Leave(room, _sessionId, opId, Expired: true), () =>
        {
            void Ended() => Persist(SessionEvents.Ended.Instance, ended => { Apply(ended); Passivate(); });
            if (_name is { } name)
                Call(_names, opId => new NameCommands.Release(NameKey(name), _sessionId, opId), _ => Ended());
            else
                Ended();
        });
    }

    private void OnRecovered()
    {
        if (!Started) return;
        if (_detachedAt is not null)
            ScheduleExpiry();
        else if (_frontend is not null)
            Context.Watch(_frontend); // a frontend that died without detaching: expire its sessions
    }

    /// <summary>Remember-entities restarts a stopped entity; passivation is how a session ends for good.</summary>
    private void Passivate() => Context.Parent.Tell(new Passivate(StopEntity.Instance));

    private void Apply(SessionEvents.Started started) => _tokenHash = started.TokenHash;

    private void Apply(SessionEvents.Attached attached)
    {
        if (_frontend is not null && !Equals(_frontend, attached.Frontend)) Context.Unwatch(_frontend);
        _connectionId = attached.ConnectionId;
        _frontend = attached.Frontend;
        _detachedAt = null;
        if (IsRecoveryFinished) Context.Watch(_frontend);
    }

    private void Apply(SessionEvents.Detached detached)
    {
        if (detached.ConnectionId == _connectionId) _detachedAt = detached.At;
    }

    private void Apply(SessionEvents.NameSet set) => _name = set.Name;
    private void Apply(SessionEvents.RoomJoined joined) => _joinedRooms.Add(joined.RoomId);
    private void Apply(SessionEvents.RoomLeft left) => _joinedRooms.Remove(left.RoomId);

    private void Apply(SessionEvents.Ended _)
    {
        _ended = true;
        _joinedRooms.Clear();
        _name = null;
    }

    public static string NameKey(string name) => name.ToLowerInvariant();
}
