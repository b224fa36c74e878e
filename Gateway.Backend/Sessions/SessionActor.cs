using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Gateway.Backend.Sessions;

/// <param name="ResumeWindow">How long a detached session waits for its client to resume.</param>
/// <param name="RetryInterval">A step another entity has not answered by then is sent again (a shard moving).</param>
public sealed record SessionSettings(TimeSpan ResumeWindow, TimeSpan RetryInterval);

/// <summary>
/// One client session: which connection carries it, how it is shown, its topics. It hands the client's frames to
/// the application in the order sent, runs the <see cref="Step"/>s each one leads to, and acknowledges the frame
/// only after every step is done (persisted here, in a topic, or in the application's entities), so the frontend can
/// retry until acknowledged and nothing it read is lost or applied twice.
/// </summary>
public sealed class SessionActor : ReceivePersistentActor, IWithTimers
{
    private const string RetryTimer = "retry";
    private const string ExpiryTimer = "expiry";

    private readonly string _sessionId;
    private readonly IActorRef _topics;
    private readonly IReadOnlyDictionary<string, IGatewayApplication> _applications;
    private readonly SessionSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly SessionState _state;

    /// <summary>Last applied envelope per connection: retries at or below it are repeats. In memory only:
    /// after a restart, repeats are harmless because every step is idempotent.</summary>
    private readonly Dictionary<string, long> _appliedSeqNo = new();

    private long _nextOpId = Random.Shared.NextInt64(1, long.MaxValue / 2);
    private PendingOperation? _pending;

    private sealed record PendingOperation(long OpId, IActorRef Target, IEntityOperation Command, Action<IEntityReply> OnReply);
    private sealed record RetryOperation;
    private sealed record ExpireSession;

    /// <param name="applications">Every application this backend runs, by name: a session runs the one it started with.</param>
    public static Props Props(string sessionId, IActorRef topics, IReadOnlyDictionary<string, IGatewayApplication> applications, SessionSettings settings) =>
        Akka.Actor.Props.Create(() => new SessionActor(sessionId, topics, applications, settings));

    public SessionActor(string sessionId, IActorRef topics, IReadOnlyDictionary<string, IGatewayApplication> applications, SessionSettings settings)
    {
        _sessionId = sessionId;
        _topics = topics;
        _applications = applications;
        _settings = settings;
        _state = new SessionState(settings);

        Recover<ISessionEvent>(Apply);
        Recover<RecoveryCompleted>(_ => OnRecovered());

        // One set of handlers for the entity's life: while a step waits for another entity's answer, everything
        // but the answers waits in the stash (Become would build a new set of handlers twice per client frame).
        Command<IEntityReply>(reply => Complete(reply.OpId, reply));
        Command<RetryOperation>(_ => _pending?.Target.Tell(_pending.Command));
        // A hand-off may stop the entity mid-step: the frontend retries the envelope and every step is idempotent.
        Command<StopEntity>(_ => HandOff.Stop(Context));
        Command<Attach>(attach => { if (!StashWhileWaiting()) HandleAttach(attach); });
        Command<ClientFrame>(frame => { if (!StashWhileWaiting()) Once(frame, () => HandleFrame(frame)); });
        Command<Detach>(detach => { if (!StashWhileWaiting()) Once(detach, () => HandleDetach(detach)); });
        Command<Terminated>(terminated =>
        {
            if (!StashWhileWaiting() && _state.DecideFrontendLost(terminated.ActorRef, DateTime.UtcNow) is { } detached)
                PersistDetached(detached, () => { });
        });
        Command<ExpireSession>(_ => { if (!StashWhileWaiting()) EndIfExpired(); });
    }

    public override string PersistenceId => $"session-{_sessionId}";

    /// <summary>A session never saves a snapshot: its recovery skips the snapshot store's query (the store answers
    /// "none" without reading), one of the three queries each session costs when a shard moves or a backend
    /// starts with hundreds of them remembered.</summary>
    public override Recovery Recovery => NoSnapshot;
    private static readonly Recovery NoSnapshot = new(SnapshotSelectionCriteria.None);
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>While another entity works on a step, the next commands wait; answers and retries do not.</summary>
    private bool StashWhileWaiting()
    {
        if (_pending is null) return false;
        Stash.Stash();
        return true;
    }

    private void Call(IActorRef target, Func<long, IEntityOperation> build, Action<IEntityReply> onReply)
    {
        var command = build(++_nextOpId);
        _pending = new PendingOperation(command.OpId, target, command, onReply);
        target.Tell(command);
        Timers.StartPeriodicTimer(RetryTimer, new RetryOperation(), _settings.RetryInterval);
    }

    private void Complete(long opId, IEntityReply reply)
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
                    // A resumed session (same frontend or another) must be subscribed again to its topics' deliveries.
                    if (accepted.RebindTopics)
                        CallEach(_state.Topics, _topics, (topic, opId) => new TopicCommands.Rebind(TopicId(topic), _sessionId, opId, attach.Frontend),
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

    private void HandleFrame(ClientFrame frame)
    {
        var view = View(frame);
        Run(Decided(() => Application.Decide(view, frame.Payload)), frame, () => Acknowledge(frame));
    }

    /// <summary>A session that started is of an application the backend runs: a frontend attaches only for those.</summary>
    private IGatewayApplication Application => _applications.TryGetValue(_state.Application!, out var application)
        ? application
        : throw new ClientError(ErrorCodes.Unavailable, $"The application '{_state.Application}' does not run on this backend.");

    /// <summary>The topic entity's id: each application has topics of its own.</summary>
    private string TopicId(string topic) => TopicIds.Of(_state.Application!, topic);

    private SessionView View(ISessionEnvelope? envelope) => new(_sessionId, _state.Presence, _state.Topics.ToList(), EnvelopeKey(envelope));

    /// <summary>The same for every delivery of one client frame; the session's own end has a key of its own.</summary>
    private string EnvelopeKey(ISessionEnvelope? envelope) =>
        envelope is null ? $"end:{_sessionId}" : $"{envelope.ConnectionId}:{envelope.SeqNo}";

    /// <summary>
    /// The application's decision; no client frame can restart the session: a failure answers that frame with an
    /// error (the application's own code for a <see cref="ClientError"/>) and loses nothing else.
    /// </summary>
    private Step Decided(Func<Step> decide)
    {
        try
        {
            return decide();
        }
        catch (ClientError error)
        {
            return new Step.Error(error.Code, error.Message, error.Reference);
        }
        catch (Exception ex)
        {
            _log.Error(ex, "Session {0}: the application failed on a client frame; answered internal_error", _sessionId);
            return new Step.Error(ErrorCodes.InternalError, "The service could not handle this frame; it was not applied.", null);
        }
    }

    /// <summary>Runs <paramref name="step"/>, then <paramref name="done"/>. Frames go to <paramref name="envelope"/>'s client;
    /// without one (the session ending on its own) there is no client to answer.</summary>
    private void Run(Step step, ISessionEnvelope? envelope, Action done)
    {
        switch (step)
        {
            case Step.All all:
                RunEach(all.Steps, 0, envelope, done);
                break;
            case Step.Reply reply:
                Reply(envelope, reply.Frame);
                done();
                break;
            case Step.Error error:
                Reply(envelope, ServerFrames.Error(error.Code, error.Message, error.Ref));
                done();
                break;
            case Step.Subscribe subscribe when envelope is not null:
                Call(_topics, opId => new TopicCommands.Subscribe(
                    TopicId(subscribe.Topic), _sessionId, opId, _state.Presence ?? "", envelope.Frontend, subscribe.Since), _ =>
                {
                    if (_state.Topics.Contains(subscribe.Topic))
                        done();
                    else
                        PersistAllThen([new SessionEvents.Subscribed(subscribe.Topic)], done);
                });
                break;
            case Step.Unsubscribe unsubscribe:
                Call(_topics, opId => new TopicCommands.Unsubscribe(TopicId(unsubscribe.Topic), _sessionId, opId, Expired: envelope is null), _ =>
                {
                    if (_state.Topics.Contains(unsubscribe.Topic))
                        PersistAllThen([new SessionEvents.Unsubscribed(unsubscribe.Topic)], done);
                    else
                        done();
                });
                break;
            case Step.Publish publish:
                Call(_topics, opId => new TopicCommands.Publish(TopicId(publish.Topic), _sessionId, opId, publish.Payload, publish.DedupeId,
                    EnvelopeKey(envelope)), _ => done());
                break;
            case Step.SetPresence presence when presence.Presence == _state.Presence:
                done();
                break;
            case Step.SetPresence presence:
                PersistAllThen([new SessionEvents.PresenceSet(presence.Presence)], () =>
                    CallEach(_state.Topics, _topics, (topic, opId) => new TopicCommands.SetPresence(TopicId(topic), _sessionId, opId, presence.Presence), done));
                break;
            case Step.Ask ask:
                Call(ask.Target, ask.Operation, reply => Run(Decided(() => ask.Next(reply)), envelope, done));
                break;
            default:
                throw new InvalidOperationException($"Session {_sessionId}: the step {step.GetType().Name} cannot run here");
        }
    }

    private void RunEach(IReadOnlyList<Step> steps, int index, ISessionEnvelope? envelope, Action done)
    {
        if (index >= steps.Count)
            done();
        else
            Run(steps[index], envelope, () => RunEach(steps, index + 1, envelope, done));
    }

    private void Reply(ISessionEnvelope? envelope, string clientFrame) =>
        envelope?.Frontend.Tell(new FrontendCommands.ToSession(_sessionId, clientFrame));

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

    /// <summary>Leaves every topic (presence is sent), runs the application's end steps, and ends for good.</summary>
    private void End()
    {
        Timers.Cancel(ExpiryTimer);
        var view = View(envelope: null);
        CallEach(_state.Topics.ToList(), _topics, (topic, opId) => new TopicCommands.Unsubscribe(TopicId(topic), _sessionId, opId, Expired: true), () =>
            Run(Decided(() => Application.Ended(view)), envelope: null, () => PersistAllThen([SessionEvents.Ended.Instance], Passivate)));
    }

    private void OnRecovered()
    {
        if (!_state.Started) return;
        if (_state.DetachedAt is not null)
            ScheduleExpiry();
        else if (_state.Frontend is { } frontend)
        {
            Context.Watch(frontend); // a frontend that died without detaching: expire its sessions
            // Moved here (a hand-off, a crash, a cut-off backend): the connection's step in flight may have been lost
            // with the old incarnation, and its resend interval has grown meanwhile; it sends it again now.
            frontend.Tell(new FrontendCommands.SessionReady(_sessionId, _state.ConnectionId!));
        }
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
