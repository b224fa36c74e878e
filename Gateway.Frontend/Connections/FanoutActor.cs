using System.Text;
using Akka.Actor;
using SocketStarter.Messages;
using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// One per frontend node: the address the backend answers to. It routes acknowledgements to connections,
/// and sends each topic frame, encoded once, to every local subscriber of the topic.
/// </summary>
public sealed class FanoutActor : ReceiveActor, IWithTimers
{
    /// <summary>A connection carries a session on this node; <paramref name="Writer"/> writes to its socket. A
    /// <paramref name="Resuming"/> connection gets the session's frames only once the session accepted its token.</summary>
    public sealed record Register(string SessionId, string ConnectionId, IActorRef Connection, SocketWriter Writer, bool Resuming = false);
    public sealed record Unregister(string SessionId, string ConnectionId);
    /// <summary>From now on <paramref name="Listener"/> also gets every message of the topics served here
    /// (the MQTT bridge, which publishes each once to all its subscribers).</summary>
    public sealed record ListenToTopics(IActorRef Listener);
    /// <summary>Ask every local connection to close so that its client resumes elsewhere; answered once their close
    /// frames are sent (or after <see cref="DrainWait"/>), so that the node may stop without cutting a socket.</summary>
    public sealed record Drain { public static readonly Drain Instance = new(); }
    public sealed record Drained(int Connections);

    public static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(3);

    private sealed record Route(string ConnectionId, IActorRef Connection, SocketWriter Writer);

    private readonly Dictionary<string, Route> _bySession = new();
    /// <summary>Resuming connections by connection id, until the session acknowledges their attach: a wrong token
    /// must not take the session's frames away from the connection that owns it.</summary>
    private readonly Dictionary<string, (string SessionId, Route Route)> _resuming = new();
    /// <summary>How many resuming connections each session has: a topic's subscribe for one of them is kept. A count
    /// per session, not a scan of <see cref="_resuming"/>: a mass resume (a frontend's clients moving here) would make
    /// every subscribe scan thousands.</summary>
    private readonly Dictionary<string, int> _resumingSessions = new();
    private readonly Dictionary<string, IActorRef> _byConnection = new();
    private readonly Dictionary<string, HashSet<string>> _topicMembers = new();
    private readonly Dictionary<string, HashSet<string>> _sessionTopics = new();
    private readonly Dictionary<string, long> _lastSeq = new();
    private readonly List<IActorRef> _topicListeners = new();
    /// <summary>Batches queued to their members and not yet confirmed to their topics.</summary>
    private readonly List<DeliveryReceipt> _receipts = new();
    private sealed record CheckReceipts { public static readonly CheckReceipts Instance = new(); }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="slowReaderGrace">How long a batch some members have not yet written may hold its topic back
    /// (<see cref="DeliveryReceipt.SlowReaderGrace"/> unless given).</param>
    public static Props Props(TimeSpan? slowReaderGrace = null)
    {
        var grace = slowReaderGrace ?? DeliveryReceipt.SlowReaderGrace;
        return Akka.Actor.Props.Create(() => new FanoutActor(grace));
    }

    private readonly TimeSpan _slowReaderGrace;

    public FanoutActor(TimeSpan slowReaderGrace)
    {
        _slowReaderGrace = slowReaderGrace;
        Receive<Register>(register =>
        {
            var route = new Route(register.ConnectionId, register.Connection, register.Writer);
            if (register.Resuming)
            {
                StopResuming(register.ConnectionId);
                _resuming[register.ConnectionId] = (register.SessionId, route);
                _resumingSessions[register.SessionId] = _resumingSessions.GetValueOrDefault(register.SessionId) + 1;
            }
            else
                _bySession[register.SessionId] = route;
            _byConnection[register.ConnectionId] = register.Connection;
        });
        Receive<Unregister>(unregister =>
        {
            _byConnection.Remove(unregister.ConnectionId);
            StopResuming(unregister.ConnectionId);
            if (_bySession.TryGetValue(unregister.SessionId, out var route) && route.ConnectionId == unregister.ConnectionId)
            {
                _bySession.Remove(unregister.SessionId);
                RemoveSubscriptions(unregister.SessionId);
            }
        });

        Receive<FrontendCommands.Acknowledged>(ack =>
        {
            // The first acknowledgement of a resuming connection is its attach's: the token was right.
            if (StopResuming(ack.ConnectionId) is { } resumed && resumed.SessionId == ack.SessionId)
                _bySession[ack.SessionId] = resumed.Route;
            ToConnection(ack.ConnectionId, ack);
        });
        Receive<FrontendCommands.ResumeRefused>(refused => ToConnection(refused.ConnectionId, refused));
        Receive<FrontendCommands.TakenOver>(takenOver => ToConnection(takenOver.ConnectionId, takenOver));
        Receive<FrontendCommands.SessionReady>(ready => ToConnection(ready.ConnectionId, ready));
        Receive<FrontendCommands.ToSession>(message => ToSession(message.SessionId, Encode(message.Frame)));
        Receive<FrontendCommands.Subscribe>(subscribe =>
        {
            // A catch-up is confirmed to its topic like a batch; one whose connection is gone, at once.
            var receipt = subscribe.ConfirmSeq is { } confirmSeq
                ? new DeliveryReceipt(Sender, Self, new TopicCommands.Delivered(subscribe.TopicId, confirmSeq), DateTime.UtcNow)
                : null;
            if (_bySession.ContainsKey(subscribe.SessionId) || _resumingSessions.ContainsKey(subscribe.SessionId))
            {
                Members(subscribe.TopicId).Add(subscribe.SessionId);
                if (!_sessionTopics.TryGetValue(subscribe.SessionId, out var topics)) _sessionTopics[subscribe.SessionId] = topics = new();
                topics.Add(subscribe.TopicId);
                if (subscribe.Frame is { } frame) ToSession(subscribe.SessionId, Encode(frame), receipt);
            }
            if (receipt is not null) Await(receipt);
        });
        Receive<FrontendCommands.Unsubscribe>(unsubscribe =>
        {
            if (_topicMembers.TryGetValue(unsubscribe.TopicId, out var members)) members.Remove(unsubscribe.SessionId);
            if (_sessionTopics.TryGetValue(unsubscribe.SessionId, out var topics)) topics.Remove(unsubscribe.TopicId);
            if (unsubscribe.Frame is { } frame) ToSession(unsubscribe.SessionId, Encode(frame));
        });
        Receive<FrontendCommands.TopicFrame>(frame => HandleTopicFrames(frame.TopicId, [frame], receipt: null));
        Receive<FrontendCommands.TopicBatch>(messages =>
        {
            // Confirmed to the topic once its members' sockets have it (its backpressure window), not once it is queued.
            var receipt = new DeliveryReceipt(Sender, Self, new TopicCommands.Delivered(messages.TopicId, messages.Frames[^1].Seq), DateTime.UtcNow);
            HandleTopicFrames(messages.TopicId, messages.Frames, receipt);
            Await(receipt);
        });
        Receive<CheckReceipts>(_ =>
        {
            var overdue = DateTime.UtcNow - _slowReaderGrace;
            foreach (var receipt in _receipts)
                if (receipt.Created < overdue && receipt.OnlySlowReadersLeft) receipt.Confirm();
            _receipts.RemoveAll(receipt => receipt.Confirmed);
            if (_receipts.Count == 0) Timers.Cancel(nameof(CheckReceipts));
        });
        Receive<ListenToTopics>(listen => _topicListeners.Add(listen.Listener));
        Receive<Drain>(_ =>
        {
            var connections = _byConnection.Values.Distinct().ToList();
            var closing = connections.Select(connection =>
                connection.Ask<ConnectionActor.ClosedForResume>(ConnectionActor.Resume.Elsewhere, DrainWait));
            // A client that does not take its close frame in time (a full socket) is not waited for.
            Task.WhenAll(closing).ContinueWith(_ => new Drained(connections.Count), TaskScheduler.Default).PipeTo(Sender);
        });
    }

    /// <summary>The receipt's frames are queued everywhere: it confirms once they are written, or past the grace.</summary>
    private void Await(DeliveryReceipt receipt)
    {
        receipt.Written();
        if (receipt.Confirmed) return;
        _receipts.Add(receipt);
        if (!Timers.IsTimerActive(nameof(CheckReceipts)))
            Timers.StartPeriodicTimer(nameof(CheckReceipts), CheckReceipts.Instance, _slowReaderGrace / 5);
    }

    /// <summary>Each frame encoded once; each member's writer is given all of them at once (one queueing, one drain).</summary>
    /// <param name="receipt">Told when each member's writer has written the last frame it was given.</param>
    private void HandleTopicFrames(string topicId, IReadOnlyList<FrontendCommands.TopicFrame> topicFrames, DeliveryReceipt? receipt)
    {
        var fresh = new List<FrontendCommands.TopicFrame>(topicFrames.Count);
        foreach (var topicFrame in topicFrames)
        {
            if (topicFrame.Seq > 0)
            {
                // A topic message re-sent by a retry reaches each connection at most once, in seq order.
                if (topicFrame.Seq <= _lastSeq.GetValueOrDefault(topicFrame.TopicId)) continue;
                _lastSeq[topicFrame.TopicId] = topicFrame.Seq;
                foreach (var listener in _topicListeners) listener.Tell(topicFrame);
            }
            fresh.Add(topicFrame);
        }
        if (fresh.Count == 0 || !_topicMembers.TryGetValue(topicId, out var members) || members.Count == 0) return;
        var outgoing = new ReadOnlyMemory<byte>[fresh.Count];
        var excepting = false;
        for (var i = 0; i < fresh.Count; i++)
        {
            outgoing[i] = Encode(fresh[i].Frame);
            excepting |= fresh[i].ExceptSessionId is not null;
        }
        foreach (var sessionId in members)
        {
            var frames = excepting ? ExceptFor(sessionId, fresh, outgoing) : outgoing;
            if (frames.Length > 0 && ToSession(sessionId, frames, receipt))
                SocketStarterMetrics.Deliveries.Add(frames.Length);
        }
    }

    /// <summary>The frames a member gets: those not meant for everyone but it (a presence change it caused).</summary>
    private static ReadOnlyMemory<byte>[] ExceptFor(string sessionId, List<FrontendCommands.TopicFrame> frames, ReadOnlyMemory<byte>[] encoded)
    {
        var kept = new List<ReadOnlyMemory<byte>>(frames.Count);
        for (var i = 0; i < frames.Count; i++)
            if (frames[i].ExceptSessionId != sessionId) kept.Add(encoded[i]);
        return kept.Count == frames.Count ? encoded : kept.ToArray();
    }

    /// <summary>The connection is no longer resuming (acknowledged, refused or gone): what it was, if it was.</summary>
    private (string SessionId, Route Route)? StopResuming(string connectionId)
    {
        if (!_resuming.Remove(connectionId, out var resuming)) return null;
        if (_resumingSessions[resuming.SessionId] == 1) _resumingSessions.Remove(resuming.SessionId);
        else _resumingSessions[resuming.SessionId]--;
        return resuming;
    }

    private HashSet<string> Members(string topicId)
    {
        if (!_topicMembers.TryGetValue(topicId, out var members)) _topicMembers[topicId] = members = new();
        return members;
    }

    private void RemoveSubscriptions(string sessionId)
    {
        if (!_sessionTopics.Remove(sessionId, out var topics)) return;
        foreach (var topic in topics)
            if (_topicMembers.TryGetValue(topic, out var members))
            {
                members.Remove(sessionId);
                if (members.Count == 0) _topicMembers.Remove(topic);
            }
    }

    /// <summary>Forwarded: the connection answers a session's <see cref="FrontendCommands.SessionReady"/> to its sender.</summary>
    private void ToConnection(string connectionId, object message)
    {
        if (_byConnection.TryGetValue(connectionId, out var connection)) connection.Forward(message);
    }

    private bool ToSession(string sessionId, ReadOnlyMemory<byte> frame, DeliveryReceipt? receipt = null) =>
        ToSession(sessionId, new ReadOnlySpan<ReadOnlyMemory<byte>>(in frame), receipt);

    private bool ToSession(string sessionId, ReadOnlySpan<ReadOnlyMemory<byte>> frames, DeliveryReceipt? receipt)
    {
        if (!_bySession.TryGetValue(sessionId, out var route)) return false;
        receipt?.Expect();
        if (!route.Writer.TryWrite(frames, receipt))
        {
            receipt?.Written();
            return false;
        }
        SocketStarterMetrics.FramesOut.Add(frames.Length);
        return true;
    }

    /// <summary>Encoded once: the same bytes go to every member.</summary>
    private static ReadOnlyMemory<byte> Encode(string frame) => Encoding.UTF8.GetBytes(frame);
}
