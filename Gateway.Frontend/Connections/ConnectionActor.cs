using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using SocketStarter.Gateway.Frontend.Authentication;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using SocketStarter.Shared.Hosting.Management;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// One per WebSocket. Gives the connection its session, then passes every client frame to the session entity
/// as a numbered envelope, one at a time, resent until acknowledged: a backend that stops or crashes loses
/// nothing this actor has read. While no backend answers, frames are held (bounded, then the inbound stream
/// stops pulling and TCP pushes back on the client); past the hold limit the client gets <c>unavailable</c>.
/// </summary>
public sealed class ConnectionActor : UntypedActor, IWithTimers
{
    // Messages from the socket's inbound stream (Sink.ActorRefWithAck).
    public sealed record InboundStarted { public static readonly InboundStarted Instance = new(); }
    public sealed record InboundAck { public static readonly InboundAck Instance = new(); }
    public sealed record InboundCompleted { public static readonly InboundCompleted Instance = new(); }
    /// <summary>A client text frame. <paramref name="Done"/>, if given, completes once the frame is settled: true when
    /// the backend applied it, false when it was answered <c>unavailable</c>; frames answering it are written first.</summary>
    public sealed record TextFrame(string Text, TaskCompletionSource<bool>? Done = null);
    public sealed record BinaryFrame { public static readonly BinaryFrame Instance = new(); }
    /// <summary>The read loop saw a frame over the size limit.</summary>
    public sealed record FrameTooBig { public static readonly FrameTooBig Instance = new(); }
    /// <summary>This frontend is draining: close with 1012 so that the client resumes its session elsewhere; answered
    /// <see cref="ClosedForResume"/> once the close frame is sent.</summary>
    public sealed record Resume { public static readonly Resume Elsewhere = new(); }
    public sealed record ClosedForResume { public static readonly ClosedForResume Instance = new(); }
    private sealed record RetryEnvelope;
    private sealed record CheckHold;
    private sealed record WriterOverflowed { public static readonly WriterOverflowed Instance = new(); }

    private const string RetryTimer = "retry";
    private const string HoldTimer = "hold";

    private readonly bool _resumable;
    private readonly IActorRef _sessions;
    private readonly IActorRef _fanout;
    private readonly FrontendSettings _settings;
    private readonly IMaterializer _materializer;
    private ISourceQueueWithComplete<object>? _inbound;

    /// <summary>Where the socket's reader offers client frames: bounded, so a full queue pauses reading.</summary>
    public sealed record GetInbound { public static readonly GetInbound Instance = new(); }

    /// <summary>A session that announced its new incarnation, and until when steps also go to it directly.</summary>
    private sealed record MovedSession(IActorRef Session, DateTime Until);
    private readonly TaskCompletionSource _channelClosed;
    /// <summary>Made when first needed: most connections never log, and an adapter per actor is 0.3 KB.</summary>
    private ILoggingAdapter Log => _log ??= Context.GetLogger();
    private ILoggingAdapter? _log;
    private readonly string _connectionId = ResumeToken.NewSessionId();
    private readonly SessionLink _link;

    private string _sessionId = "";
    /// <summary>The session's new incarnation, which steps also go to directly for a while (see SessionReady).</summary>
    private MovedSession? _movedSession;
    private readonly SocketWriter _writer;
    private TimeSpan _retryDelay;
    private IActorRef? _inboundWaiting;
    private bool _inboundDone;
    /// <summary>Closed by the server (the session resumed elsewhere, or the client flooded): what it had read is
    /// finished, what it sends from now on is dropped.</summary>
    private bool _refusingFrames;
    private readonly FrameRateLimit _rateLimit;
    private readonly ClientAuthentication _authentication;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="application">The backend application this connection's session belongs to.</param>
    /// <param name="resumable">WebSocket sessions wait for a resume after a disconnect; MQTT clean sessions end at once.</param>
    /// <param name="identity">The application's frame that claims an identity, checked with <paramref name="authentication"/>.</param>
    public static Props Props(IClientChannel channel, string application, bool resumable, string? resumeToken, IActorRef sessions, IActorRef fanout,
        FrontendSettings settings, IMaterializer materializer, TaskCompletionSource channelClosed, ClientAuthentication? authentication = null,
        IdentityClaim? identity = null, StandingQueue? standingQueue = null) =>
        Akka.Actor.Props.Create(() => new ConnectionActor(channel, application, resumable, resumeToken, sessions, fanout, settings, materializer,
            channelClosed, authentication ?? ClientAuthentication.Off, identity, standingQueue)).WithDispatcher(ConnectionMailbox.DispatcherId);

    private readonly string? _resumeToken;

    private readonly string _application;
    private readonly IdentityClaim? _identity;

    public ConnectionActor(IClientChannel channel, string application, bool resumable, string? resumeToken, IActorRef sessions, IActorRef fanout,
        FrontendSettings settings, IMaterializer materializer, TaskCompletionSource channelClosed, ClientAuthentication authentication,
        IdentityClaim? identity, StandingQueue? standingQueue)
    {
        _application = application;
        _identity = identity;
        _authentication = authentication;
        _materializer = materializer;
        _resumable = resumable;
        _resumeToken = resumeToken;
        _sessions = sessions;
        _fanout = fanout;
        _settings = settings;
        _channelClosed = channelClosed;
        _writer = new SocketWriter(channel, settings.OutboundLimit);
        _link = new SessionLink(settings, held => SocketStarterMetrics.FramesHeld.Add(held), standingQueue);
        _rateLimit = new FrameRateLimit(settings.FramesPerSecond, settings.FrameBurst);
    }

    // One switch rather than ReceiveActor's handlers: those are built per actor instance, 0.9 KB that every
    // connection held for as long as it lived.
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case InboundStarted:
                Sender.Tell(InboundAck.Instance);
                break;
            case GetInbound:
                Sender.Tell(_inbound);
                break;
            case TextFrame frame:
                HandleText(frame);
                AckInbound(Sender);
                break;
            case BinaryFrame:
                SendToClient(ServerFrames.Error(ErrorCodes.BadFrame, "Binary frames are not supported; send JSON text frames.", null));
                AckInbound(Sender);
                break;
            case FrameTooBig:
                _writer.Close(CloseCodes.TooBig, "Frame over 64 KiB");
                break;
            case Resume:
                _writer.Close(CloseCodes.ResumeElsewhere, "This frontend is draining; resume elsewhere");
                _writer.Finished.PipeTo(Sender, success: _ => ClosedForResume.Instance);
                break;
            case FrontendCommands.TakenOver:
                // Frames read before still go to the session, in order; what this socket sends from now on does not.
                _refusingFrames = true;
                _writer.Close(CloseCodes.TakenOver, "The session was resumed on another connection");
                break;
            case InboundCompleted:
                // The client is gone: tell the session, after every frame read before, so its resume window starts.
                _inboundDone = true;
                _writer.Close(CloseCodes.Normal, "Closing");
                Enqueue(new SessionLink.DetachStep());
                break;
            case FrontendCommands.Acknowledged ack:
                HandleAcknowledged(ack);
                break;
            case FrontendCommands.ResumeRefused refused:
                if (refused.SessionId != _sessionId || _link.Refuse(refused.SeqNo) is null) break;
                Timers.Cancel(RetryTimer);
                StartFreshSession();
                SendNext();
                break;
            case WriterOverflowed:
                Log.Info("Closed slow client of session {0} with 1013: its outbound queue was full", _sessionId);
                break;
            case RetryEnvelope:
                Resend();
                break;
            case FrontendCommands.SessionReady ready when ready.SessionId == _sessionId:
                // The session proxy may still route the session's shard to its old home for a while (a coordinator
                // that had not yet seen the old node removed answered with it, and the proxy watches that dead region
                // until the remote failure detector gives up, ~1.7 s): steps sent through it meanwhile were lost
                // (a backend cut off: a client's messages waited 6.5-7 s instead of ~5). So for a while each step
                // also goes straight to the session that announced itself; the session applies a step once and
                // acknowledges a repeat, and the proxy's copy still covers a session that moves again.
                _movedSession = new MovedSession(Sender, DateTime.UtcNow + _settings.AlsoToMovedSession);
                // The step in flight may have died with the session's old incarnation: send it now, and back off
                // from the start again, rather than wait out a resend interval grown to seconds meanwhile.
                if (_link.InFlight is { } inFlight) Send(inFlight.Envelope, retryAfter: _settings.FirstRetry);
                break;
            case CheckHold:
                ExpireHeld();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void PreStart()
    {
        SocketStarterMetrics.OpenConnections.Add(1);
        // Inbound only: client frames wait in a bounded, backpressured queue until this actor takes them.
        _inbound = Source.Queue<object>(_settings.InboundBuffer, OverflowStrategy.Backpressure)
            .To(Sink.ActorRefWithAck<object>(Self, InboundStarted.Instance, InboundAck.Instance,
                InboundCompleted.Instance, _ => InboundCompleted.Instance))
            .WithAttributes(ActorAttributes.CreateDispatcher(ConnectionMailbox.DispatcherId))
            .Run(_materializer);
        // One continuation per connection (an idle one holds it for as long as it lives).
        var (channelClosed, self) = (_channelClosed, Self);
        _writer.Finished.ContinueWith(finished =>
        {
            channelClosed.TrySetResult();
            if (finished.Result == SocketWriter.End.Overflowed) self.Tell(WriterOverflowed.Instance);
        }, TaskScheduler.Default);

        if (ResumeToken.TryParse(_resumeToken, out var sessionId, out var secret))
        {
            _sessionId = sessionId;
            _link.Enqueue(new SessionLink.AttachStep(NewTokenHash: null, ResumeSecret: secret));
            Register(resuming: true);
        }
        else
        {
            StartFreshSession();
        }
        SendNext();
    }

    protected override void PostStop()
    {
        foreach (var frame in _link.Abandon()) frame.Done?.TrySetResult(false);
        SocketStarterMetrics.OpenConnections.Add(-1);
        _fanout.Tell(new FanoutActor.Unregister(_sessionId, _connectionId));
        _channelClosed.TrySetResult();
    }

    private void StartFreshSession()
    {
        if (_sessionId.Length > 0) _fanout.Tell(new FanoutActor.Unregister(_sessionId, _connectionId));
        _movedSession = null;
        _sessionId = ResumeToken.NewSessionId();
        var (token, secretHash) = ResumeToken.Create(_sessionId);
        _link.EnqueueFirst(new SessionLink.AttachStep(NewTokenHash: secretHash, ResumeSecret: null));
        Register();
        SendToClient(ServerFrames.Welcome(_sessionId, token, resumed: false));
    }

    private void Register(bool resuming = false) => _fanout.Tell(new FanoutActor.Register(_sessionId, _connectionId, Self, _writer, resuming));

    private void HandleText(TextFrame frame)
    {
        SocketStarterMetrics.FramesIn.Add(1);
        if (_refusingFrames)
        {
            Settle(frame.Done, applied: false);
            return;
        }
        switch (_rateLimit.Take(TimeSpan.FromMilliseconds(Environment.TickCount64)))
        {
            case FrameRateLimit.Verdict.Refuse:
                SendToClient(ServerFrames.Error(ErrorCodes.RateLimited,
                    $"Over {_settings.FramesPerSecond} frames per second; this frame was not delivered. Send it again later.", null,
                    ClientFrameCheck.Id(frame.Text)));
                Settle(frame.Done, applied: false);
                return;
            case FrameRateLimit.Verdict.Close:
                Log.Info("Closed a client of session {0} with 1008: it kept sending over the rate limit", _sessionId);
                _refusingFrames = true;
                _writer.Close(CloseCodes.PolicyViolation, "Too many frames over the rate limit");
                Settle(frame.Done, applied: false);
                return;
        }
        if (ClientFrameCheck.Type(frame.Text, out var problem) is not { } type)
        {
            SendToClient(ServerFrames.Error(ErrorCodes.BadFrame, problem, null));
            Settle(frame.Done, applied: false);
            return;
        }
        var now = DateTime.UtcNow;
        if (!_link.Admit(now))
        {
            // The client is far ahead of a backend that answers it promptly (it floods), or its frame would wait too
            // long behind a slow one (overload). Tell it at once, naming the frame, rather than let its frames (and
            // their latency) pile up. Holding is for a backend that is away.
            SendToClient(ServerFrames.Error(ErrorCodes.RateLimited,
                "Too many frames waiting for the service; this frame was not delivered. Send it again later.", type,
                ClientFrameCheck.Id(frame.Text)));
            Settle(frame.Done, applied: false);
            return;
        }
        var payload = frame.Text;
        if (_identity is { } claim && type == claim.FrameType && _authentication.Enabled && !Authenticate(claim, ref payload))
        {
            Settle(frame.Done, applied: false);
            return;
        }
        Enqueue(new SessionLink.FrameStep(payload, type, frame.Done, now));
    }

    /// <summary>An identity only with a token for it; the token itself goes no further than this node.</summary>
    private bool Authenticate(IdentityClaim claim, ref string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var identity = root.TryGetProperty(claim.Field, out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : null;
        var token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (identity is null) return true; // the application answers the frame without it
        if (_authentication.Refusal(identity, token) is { } refusal)
        {
            SendToClient(ServerFrames.Error(ErrorCodes.Unauthorized, refusal, claim.FrameType));
            return false;
        }
        payload = ServerFrames.Write(w =>
        {
            foreach (var field in root.EnumerateObject())
                if (field.Name != "token") field.WriteTo(w);
        });
        return true;
    }

    private void Settle(TaskCompletionSource<bool>? done, bool applied)
    {
        if (done is not null) _writer.After(done, applied);
    }

    private void Enqueue(SessionLink.Step step)
    {
        _link.Enqueue(step);
        SendNext();
    }

    /// <summary>Acknowledges the inbound stream only while it holds fewer than the limit: otherwise reading the socket pauses.</summary>
    private void AckInbound(IActorRef inbound)
    {
        // Frames told directly (MQTT: one operation at a time) have no stream to acknowledge.
        if (inbound.IsNobody() || inbound.Equals(Context.System.DeadLetters)) return;
        if (_link.CanHoldMore)
            inbound.Tell(InboundAck.Instance);
        else
            _inboundWaiting = inbound;
    }

    private void SendNext()
    {
        if (_link.TakeNext(DateTime.UtcNow, this, static (self, step, seqNo) => self.EnvelopeFor(step, seqNo)) is not { } next) return;
        // Checked only while something waits for a backend: an idle connection costs no timer.
        if (!Timers.IsTimerActive(HoldTimer)) Timers.StartPeriodicTimer(HoldTimer, new CheckHold(), TimeSpan.FromSeconds(1));
        Send(next.Envelope, retryAfter: _settings.FirstRetry);

        if (_inboundWaiting is not null && _link.CanHoldMore)
        {
            _inboundWaiting.Tell(InboundAck.Instance);
            _inboundWaiting = null;
        }
    }

    private ISessionEnvelope EnvelopeFor(SessionLink.Step step, long seqNo) => step switch
    {
        SessionLink.AttachStep attach => new Attach(_sessionId, _connectionId, seqNo, _fanout, attach.NewTokenHash, attach.ResumeSecret, _application),
        SessionLink.FrameStep frame => new ClientFrame(_sessionId, _connectionId, seqNo, _fanout, frame.Payload),
        _ => new Detach(_sessionId, _connectionId, seqNo, _fanout, EndSession: !_resumable),
    };

    /// <summary>The step in flight again, less often each time; nothing when it has been settled meanwhile.</summary>
    private void Resend()
    {
        if (_link.InFlight is not { } inFlight) return;
        Send(inFlight.Envelope, retryAfter: TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, _settings.MaxRetry.Ticks)));
    }

    /// <summary>The envelope to its session, sent again after <paramref name="retryAfter"/> unless acknowledged first.</summary>
    private void Send(ISessionEnvelope envelope, TimeSpan retryAfter)
    {
        _retryDelay = retryAfter;
        _sessions.Tell(envelope);
        if (_movedSession is { } moved)
        {
            if (DateTime.UtcNow < moved.Until) moved.Session.Tell(envelope);
            else _movedSession = null;
        }
        Timers.StartSingleTimer(RetryTimer, new RetryEnvelope(), _retryDelay);
    }

    private void HandleAcknowledged(FrontendCommands.Acknowledged ack)
    {
        if (ack.SessionId != _sessionId || _link.Acknowledge(ack.SeqNo, DateTime.UtcNow) is not { } step) return;
        Timers.Cancel(RetryTimer);
        switch (step)
        {
            case SessionLink.FrameStep frame:
                Settle(frame.Done, applied: true);
                break;
            case SessionLink.AttachStep { ResumeSecret: { } secret }:
                SendToClient(ServerFrames.Welcome(_sessionId, $"{_sessionId}.{secret}", resumed: true));
                break;
            case SessionLink.DetachStep:
                Context.Stop(Self);
                return;
        }
        SendNext();
    }

    /// <summary>Past the hold limit, frames the backend has not taken are answered <c>unavailable</c> (SessionLink.Expire).</summary>
    private void ExpireHeld()
    {
        if (_link.IsIdle)
        {
            Timers.Cancel(HoldTimer);
            return;
        }
        var expiry = _link.Expire(DateTime.UtcNow, clientClosed: _inboundDone);
        if (expiry.GiveUp)
        {
            Log.Warning("Session {0}: no backend took the last steps of a closed connection within the hold limit", _sessionId);
            Context.Stop(Self);
            return;
        }
        if (expiry.Unavailable.Count == 0) return;
        foreach (var frame in expiry.Unavailable) Unavailable(frame);
        SendNext();
    }

    private void Unavailable(SessionLink.FrameStep frame)
    {
        SendToClient(ServerFrames.Error(ErrorCodes.Unavailable,
            "The service is unavailable right now; this frame was not delivered. Try again shortly.", frame.Type));
        Settle(frame.Done, applied: false);
    }

    private void SendToClient(string frame)
    {
        if (_writer.TryWrite(System.Text.Encoding.UTF8.GetBytes(frame))) SocketStarterMetrics.FramesOut.Add(1);
    }
}
