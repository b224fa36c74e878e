using Akka.Actor;
using Microsoft.Extensions.Configuration;
using SocketStarter.Gateway.Frontend;
using SocketStarter.Messages;
using SocketStarter.Gateway.Frontend.Connections;
using static SocketStarter.Gateway.Frontend.Connections.SessionLink;

namespace SocketStarter.Tests;

/// <summary>The rules of a connection's stream into its session: order, holding, flooding and giving up.</summary>
public sealed class SessionLinkSpec
{
    private static readonly FrontendSettings Settings = new(
        HoldLimit: TimeSpan.FromSeconds(30), MaxHeldFrames: 8, MaxQueuedWhileBusy: 3, MaxQueueWait: TimeSpan.FromMilliseconds(500), InboundBuffer: 4, OutboundLimit: 8,
        FirstRetry: TimeSpan.FromMilliseconds(300), MaxRetry: TimeSpan.FromSeconds(2), AlsoToMovedSession: TimeSpan.FromSeconds(3),
        FramesPerSecond: 20, FrameBurst: 100, MaxConnectionsPerAddress: 10);

    private static readonly DateTime T0 = new(2026, 12, 2, 12, 0, 0, DateTimeKind.Utc);
    private SessionLink _link;
    private int _held;

    public SessionLinkSpec() => _link = new SessionLink(Settings, change => _held += change);

    /// <summary>The next step, wrapped as the connection actor would.</summary>
    private InFlightStep? TakeNext(DateTime now) => TakeNext(_link, now);

    private static InFlightStep? TakeNext(SessionLink link, DateTime now) =>
        link.TakeNext(now, "session", static (session, step, seqNo) => new SessionCommands.ClientFrame(session, "connection", seqNo, ActorRefs.Nobody,
            step is FrameStep frame ? frame.Payload : ""));

    private static FrameStep Frame(string text, DateTime? arrived = null) =>
        new($"{{\"type\":\"say\",\"text\":\"{text}\"}}", "say", null, arrived ?? T0);

    /// <summary>Attached and acknowledged at <paramref name="at"/>: the backend has just answered.</summary>
    private void Attached(DateTime at)
    {
        _link.Enqueue(new AttachStep("hash", null));
        var attach = TakeNext(at)!;
        Assert.IsType<AttachStep>(_link.Acknowledge(attach.SeqNo, at));
    }

    /// <summary>Attached at T0, the first of <paramref name="texts"/> in flight since T0 and the rest waiting.</summary>
    private void HeldBehindOneInFlight(params string[] texts)
    {
        Attached(T0);
        foreach (var text in texts) _link.Enqueue(Frame(text));
        TakeNext(T0);
    }

    private static IEnumerable<string> Texts(IEnumerable<FrameStep> frames) => frames.Select(f => f.Payload[^4..^1]);

    [Fact]
    public void Steps_go_one_at_a_time_in_order_each_numbered_and_the_next_only_after_its_acknowledgement()
    {
        Attached(T0);
        _link.Enqueue(Frame("a"));
        _link.Enqueue(Frame("b"));

        var first = TakeNext(T0)!;
        Assert.Null(TakeNext(T0));
        Assert.Null(_link.Acknowledge(first.SeqNo + 1, T0)); // not the one in flight: ignored
        Assert.Same(first.Step, _link.Acknowledge(first.SeqNo, T0));
        var second = TakeNext(T0)!;
        Assert.Equal(first.SeqNo + 1, second.SeqNo);
        Assert.Contains("\"b\"", ((FrameStep)second.Step).Payload);
        Assert.Equal(second.SeqNo, second.Envelope.SeqNo); // resent as it was first sent, until acknowledged
    }

    [Fact]
    public void A_fresh_sessions_attach_goes_before_what_was_waiting()
    {
        _link.Enqueue(Frame("a"));
        _link.EnqueueFirst(new AttachStep("hash", null));
        Assert.IsType<AttachStep>(TakeNext(T0)!.Step);
    }

    [Fact]
    public void A_client_far_ahead_of_a_backend_that_answers_promptly_is_refused()
    {
        HeldBehindOneInFlight("in flight");
        for (var i = 0; i < Settings.MaxQueuedWhileBusy; i++)
        {
            Assert.True(_link.Admit(T0));
            _link.Enqueue(Frame($"m{i}"));
        }
        Assert.False(_link.Admit(T0.AddMilliseconds(100)));
    }

    [Fact]
    public void While_the_backend_keeps_the_client_waiting_its_frames_are_held_up_to_the_hold_bound()
    {
        HeldBehindOneInFlight("in flight");
        var later = T0 + Answering;
        for (var i = 0; i < Settings.MaxHeldFrames; i++)
        {
            Assert.True(_link.Admit(later));
            _link.Enqueue(Frame($"m{i}"));
        }
        Assert.False(_link.CanHoldMore); // the socket is not read on: TCP pushes back
    }

    [Fact]
    public void A_backlog_held_through_a_stall_drains_without_the_client_being_refused_then_flooding_counts_again()
    {
        var (inFlight, stall) = StalledWithBacklog(frames: 5);

        // The backend answers again, slowly at first (it catches up); the client goes on sending while its backlog drains.
        var now = stall;
        for (var i = 6; i <= 9; i++)
        {
            now = now.AddMilliseconds(400);
            _link.Acknowledge(inFlight.SeqNo, now);
            inFlight = TakeNext(now)!;
            Assert.True(_link.Admit(now), $"m{i} was refused while the backlog drained");
            _link.Enqueue(Frame($"m{i}"));
        }

        // Drained, then far ahead again while answered promptly: that is flooding.
        while (_link.Acknowledge(inFlight.SeqNo, now) is not null && TakeNext(now) is { } next) inFlight = next;
        now = now.AddMilliseconds(10);
        for (var i = 0; i < Settings.MaxQueuedWhileBusy; i++) _link.Enqueue(Frame($"f{i}"));
        TakeNext(now);
        _link.Enqueue(Frame("f3"));
        Assert.False(_link.Admit(now));
    }

    [Fact]
    public void Once_the_backlog_of_a_stall_has_drained_a_client_outpacing_a_slow_backend_is_refused_not_held_for_ever()
    {
        var (inFlight, now) = StalledWithBacklog(frames: 2);

        // The backend now takes 400 ms a frame and the client sends one every 200 ms: its queue never empties.
        var refused = new List<int>();
        for (var i = 3; i <= 20; i++)
        {
            now = now.AddMilliseconds(200);
            if (i % 2 == 1)
            {
                _link.Acknowledge(inFlight.SeqNo, now);
                inFlight = TakeNext(now)!;
            }
            if (_link.Admit(now)) _link.Enqueue(Frame($"m{i}"));
            else refused.Add(i);
        }
        Assert.DoesNotContain(3, refused); // the backlog itself and what came while it drained: held
        Assert.NotEmpty(refused);          // after it: slowed, the wait bounded
    }

    [Fact]
    public void A_backend_that_answers_slowly_while_it_catches_up_after_a_stall_does_not_get_the_client_refused()
    {
        // The default queue bound: what this is about is the round-trip estimate, not the cap on a flooding client.
        _link = new SessionLink(Settings with { MaxQueuedWhileBusy = 64 });
        var (inFlight, now) = StalledWithBacklog(frames: 5);

        // The session has moved and recovers: its first eight answers take 300 ms each, then 40 ms, and the client
        // goes on sending one frame every 400 ms, as a chat client does. Slow answers right after a stall are a
        // backend catching up, not overload.
        var refused = new List<int>();
        var answers = 0;
        var nextAnswer = now.AddMilliseconds(300);
        var nextSend = now.AddMilliseconds(400);
        for (var i = 6; i <= 16;)
        {
            if (nextAnswer <= nextSend)
            {
                now = nextAnswer;
                _link.Acknowledge(inFlight.SeqNo, now);
                inFlight = TakeNext(now) ?? inFlight;
                nextAnswer = now.AddMilliseconds(++answers < 8 ? 300 : 40);
                continue;
            }
            now = nextSend;
            if (_link.Admit(now)) _link.Enqueue(Frame($"m{i}"));
            else refused.Add(i);
            if (_link.InFlight is null) inFlight = TakeNext(now)!;
            nextSend = now.AddMilliseconds(400);
            i++;
        }
        Assert.Empty(refused);
    }

    /// <summary>Quick round trips, then one long one (a restart): a stall, not a slow backend. m0 waits 5 s, and the
    /// client's frames m1..m<paramref name="frames"/> sent meanwhile are held behind it.</summary>
    private (InFlightStep InFlight, DateTime Now) StalledWithBacklog(int frames)
    {
        Attached(T0);
        var start = AnsweredEach(T0, TimeSpan.FromMilliseconds(20), frames: 4);
        _link.Enqueue(Frame("m0"));
        var inFlight = TakeNext(start)!;
        var stall = start.AddSeconds(5);
        for (var i = 1; i <= frames; i++)
        {
            Assert.True(_link.Admit(stall), $"m{i} was refused during the stall");
            _link.Enqueue(Frame($"m{i}"));
        }
        return (inFlight, stall);
    }

    /// <summary>Frames sent one after another from <paramref name="start"/>, each acknowledged <paramref name="roundTrip"/>
    /// after it was sent; returns when the last was acknowledged.</summary>
    private DateTime AnsweredEach(DateTime start, TimeSpan roundTrip, int frames)
    {
        var now = start;
        for (var i = 0; i < frames; i++)
        {
            _link.Enqueue(Frame($"r{i}"));
            var sent = TakeNext(now)!;
            now += roundTrip;
            _link.Acknowledge(sent.SeqNo, now);
        }
        return now;
    }

    [Fact]
    public void Behind_a_backend_that_answers_every_frame_slowly_a_frame_that_would_wait_too_long_is_refused()
    {
        Attached(T0);
        var roundTrip = TimeSpan.FromMilliseconds(400);
        var now = AnsweredEach(T0, roundTrip, frames: 4);
        _link.Enqueue(Frame("in flight"));
        var inFlight = TakeNext(now)!;

        now += TimeSpan.FromMilliseconds(50);
        Assert.True(_link.Admit(now)); // one round trip behind the one in flight: within the 500 ms allowed
        _link.Enqueue(Frame("next"));
        Assert.False(_link.Admit(now)); // two round trips: 800 ms; the client is told rate_limited, not made to wait

        // Once the backend answers quickly again, the same queue is fine.
        _link.Acknowledge(inFlight.SeqNo, now);
        TakeNext(now);
        _link.Enqueue(Frame("after"));
        Assert.True(_link.Admit(now));
    }

    [Fact]
    public void Behind_a_backend_that_answers_quickly_a_burst_sent_at_once_is_not_refused_for_its_length()
    {
        // Under the default wait, whatever it is: a healthy backend's 60 ms round trips must not count as slow.
        var link = AnsweredQuickly();
        var now = AnsweredQuicklyUntil;

        // Twenty frames at 60 ms each would wait 1.2 s, yet the backend is healthy: a pasted block, not overload.
        for (var i = 0; i < 20; i++)
        {
            Assert.True(link.Admit(now), $"frame {i} of the burst was refused");
            link.Enqueue(Frame($"b{i}"));
        }
    }

    /// <summary>Under the default <c>MAX_QUEUE_WAIT_MS</c>, the attach and four frames answered in 60 ms each (a healthy
    /// backend), a fifth frame in flight since <see cref="AnsweredQuicklyUntil"/>.</summary>
    private static SessionLink AnsweredQuickly(StandingQueue? queues = null)
    {
        var now = T0;
        var defaultWait = FrontendSettings.FromConfiguration(new ConfigurationBuilder().Build()).MaxQueueWait;
        var link = new SessionLink(Settings with { MaxQueuedWhileBusy = 64, MaxQueueWait = defaultWait }, standingQueue: queues);
        link.Enqueue(new AttachStep("hash", null));
        for (var i = 0; i <= 5; i++)
        {
            var sent = TakeNext(link, now)!;
            if (i == 5) break;
            now = now.AddMilliseconds(60);
            link.Acknowledge(sent.SeqNo, now);
            link.Enqueue(Frame($"r{i}", now));
        }
        return link;
    }

    private static readonly DateTime AnsweredQuicklyUntil = T0.AddMilliseconds(5 * 60);

    /// <summary>A frontend whose connections' frames all waited (or all went at once) over the interval before <paramref name="at"/>.</summary>
    private static StandingQueue Queues(bool waiting, DateTime at)
    {
        var queues = new StandingQueue();
        var start = at - StandingQueue.Interval;
        for (var i = 0; i < 100; i++) queues.Sent(waiting ? TimeSpan.FromMilliseconds(200) : TimeSpan.Zero, start);
        queues.Sent(TimeSpan.Zero, at);
        return queues;
    }

    [Fact]
    public void While_nearly_every_connections_frames_wait_a_client_may_have_one_frame_waiting_not_a_burst()
    {
        var now = AnsweredQuicklyUntil;
        var link = AnsweredQuickly(Queues(waiting: true, now));
        Assert.True(link.Admit(now)); // nothing waits yet behind the frame in flight
        link.Enqueue(Frame("first", now));
        Assert.False(link.Admit(now));

        // The same client, the same healthy round trips, while the other connections go straight through: a burst.
        var calm = AnsweredQuickly(Queues(waiting: false, now));
        for (var i = 0; i < 20; i++)
        {
            Assert.True(calm.Admit(now), $"frame {i} of the burst was refused");
            calm.Enqueue(Frame($"b{i}", now));
        }
    }

    /// <summary>A client sends <paramref name="frames"/> frames, one per <paramref name="everyMs"/>, while its backend
    /// answers nothing for <paramref name="pauseMs"/>; then the backlog drains, one frame per <paramref name="drainEveryMs"/>.
    /// Whether the frontend, told only of this link's waits, then judges its queues standing.</summary>
    private bool StandsAfterPause(int frames, int everyMs, int pauseMs, int drainEveryMs)
    {
        var queues = new StandingQueue();
        _link = new SessionLink(Settings with { MaxHeldFrames = 100, MaxQueuedWhileBusy = 64 }, standingQueue: queues);
        Attached(T0);
        _link.Enqueue(Frame("in flight"));
        var inFlight = TakeNext(T0)!;
        for (var i = 0; i < frames; i++)
        {
            var at = T0.AddMilliseconds(everyMs * i);
            Assert.True(_link.Admit(at));
            _link.Enqueue(Frame($"m{i:00}", at));
        }
        var now = T0.AddMilliseconds(pauseMs);
        _link.Acknowledge(inFlight.SeqNo, now);
        while (TakeNext(now) is { } next)
        {
            now = now.AddMilliseconds(drainEveryMs);
            _link.Acknowledge(next.SeqNo, now);
        }
        queues.Sent(TimeSpan.Zero, now + StandingQueue.Interval); // the interval of the drain is judged
        return queues.Stands(now + StandingQueue.Interval);
    }

    // A backend restarting: for two seconds nothing is answered while the client sends every 30 ms. The backlog drains
    // in 240 ms, so most of it waits past LongWait even counted from the stall's end: held frames are not counted.
    [Fact]
    public void Frames_held_through_a_stall_do_not_count_as_waiting_for_a_busy_backend() =>
        Assert.False(StandsAfterPause(frames: 60, everyMs: 30, pauseMs: 2000, drainEveryMs: 4));

    // The backend pauses 600 ms (a GC, a journal commit), shorter than a stall that holds the backlog; the client's
    // 40 frames all come in its first 400 ms and go on within 40 ms of its end.
    [Fact]
    public void Frames_sent_during_a_short_pause_count_their_wait_from_its_end() =>
        Assert.False(StandsAfterPause(frames: 40, everyMs: 10, pauseMs: 600, drainEveryMs: 1));

    [Fact]
    public void Past_the_hold_limit_every_held_frame_is_given_up_in_order_and_then_frames_wait_only_the_outage_probe()
    {
        HeldBehindOneInFlight("a", "b", "c");

        Assert.Same(Expiry.Nothing, _link.Expire(T0 + Settings.HoldLimit, clientClosed: false));
        var expiry = _link.Expire(T0 + Settings.HoldLimit + TimeSpan.FromSeconds(1), clientClosed: false);
        Assert.False(expiry.GiveUp);
        Assert.Equal(["\"a\"", "\"b\"", "\"c\""], Texts(expiry.Unavailable));
        Assert.True(_link.IsIdle);

        // The backend is still away: a new frame waits the outage probe, not the whole hold limit.
        var outage = T0 + Settings.HoldLimit + TimeSpan.FromSeconds(2);
        _link.Enqueue(Frame("d"));
        TakeNext(outage);
        Assert.Single(_link.Expire(outage + OutageProbe + TimeSpan.FromMilliseconds(1), clientClosed: false).Unavailable);

        // An acknowledgement ends the outage: the full hold limit applies again.
        _link.Enqueue(Frame("e"));
        var e = TakeNext(outage)!;
        _link.Acknowledge(e.SeqNo, outage);
        _link.Enqueue(Frame("f"));
        TakeNext(outage);
        Assert.Same(Expiry.Nothing, _link.Expire(outage + OutageProbe + TimeSpan.FromSeconds(1), clientClosed: false));
    }

    [Fact]
    public void Attaching_is_never_given_up_while_the_client_is_connected_but_a_closed_clients_steps_are()
    {
        _link.Enqueue(new AttachStep("hash", null));
        TakeNext(T0);
        var late = T0 + Settings.HoldLimit + TimeSpan.FromSeconds(1);
        Assert.Empty(_link.Expire(late, clientClosed: false).Unavailable);
        Assert.NotNull(_link.InFlight);
        Assert.True(_link.Expire(late, clientClosed: true).GiveUp);
    }

    [Fact]
    public void Unsettled_frames_are_the_one_in_flight_then_those_waiting()
    {
        HeldBehindOneInFlight("a", "b");
        Assert.Equal(["\"a\"", "\"b\""], Texts(_link.UnsettledFrames));
    }

    [Fact]
    public void The_held_frames_count_follows_every_frame_until_it_is_settled_expired_or_abandoned()
    {
        HeldBehindOneInFlight("a", "b", "c");
        Assert.Equal(3, _held);
        _link.Acknowledge(_link.InFlight!.SeqNo, T0);
        Assert.Equal(2, _held);
        TakeNext(T0);
        _link.Expire(T0 + Settings.HoldLimit + TimeSpan.FromSeconds(1), clientClosed: false); // b and c unavailable
        Assert.Equal(0, _held);

        _link.Enqueue(Frame("d"));
        _link.Enqueue(Frame("e"));
        TakeNext(T0);
        Assert.Equal(["\"d\"", "\"e\""], Texts(_link.Abandon()));
        Assert.Equal(0, _held);
        Assert.True(_link.IsIdle);
    }
}
