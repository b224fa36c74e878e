using System.Runtime.CompilerServices;
using static SocketStarter.Messages.SessionCommands;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// A connection's ordered stream into its session, as rules without an actor: steps wait in order, one at a time is
/// in flight (numbered) until the backend acknowledges it; frames are held while no backend answers and given up
/// past the hold limit; a client far ahead of a backend that answers promptly is flooding, and one whose next frame
/// would wait too long behind a backend that answers every frame slowly is slowed down. The connection actor runs
/// what this decides: it sends the envelopes, answers the client and keeps the timers.
/// </summary>
/// <param name="heldFramesChanged">Told every change in the number of frames not yet settled (the held-frames metric).</param>
/// <param name="standingQueue">The frontend's judgement of all its connections' queues; none: a frame may always wait
/// as long as the round trips allow.</param>
public sealed class SessionLink(FrontendSettings settings, Action<int>? heldFramesChanged = null, StandingQueue? standingQueue = null)
{
    public abstract record Step;
    public sealed record AttachStep(string? NewTokenHash, string? ResumeSecret) : Step;
    /// <param name="Done">Completes once the frame is settled: true when applied, false when refused or given up.</param>
    /// <param name="Arrived">When the frame was read: its wait in the queue counts from there.</param>
    public sealed record FrameStep(string Payload, string Type, TaskCompletionSource<bool>? Done, DateTime Arrived) : Step;
    public sealed record DetachStep : Step;

    /// <param name="Envelope">What carries the step to its session, sent again until acknowledged.</param>
    public sealed record InFlightStep(Step Step, long SeqNo, DateTime FirstSent, ISessionEnvelope Envelope);

    /// <summary>What expiring held steps decided: the frames to answer <c>unavailable</c> (in order), and whether a
    /// closed client's remaining steps are given up altogether.</summary>
    public sealed record Expiry(IReadOnlyList<FrameStep> Unavailable, bool GiveUp)
    {
        public static readonly Expiry Nothing = new([], false);
    }

    /// <summary>Acknowledgements closer together than this mean the backend is answering, not away.</summary>
    public static readonly TimeSpan Answering = TimeSpan.FromMilliseconds(500);
    /// <summary>During a known outage, how long a frame may wait for a backend before it too is answered unavailable.</summary>
    public static readonly TimeSpan OutageProbe = TimeSpan.FromSeconds(2);

    private readonly LinkedList<Step> _waiting = new();
    private DateTime _lastAcknowledged = DateTime.MinValue;
    /// <summary>When the last step that kept the client waiting past <see cref="Answering"/> was answered.</summary>
    private DateTime _stallEnded = DateTime.MinValue;
    /// <summary>Set when a step has waited past the hold limit: until a backend answers again, frames fail fast.</summary>
    private DateTime? _outageSince;
    /// <summary>Frames queued while a backend kept the client waiting, not yet sent on: the client is owed their drain,
    /// and what it sends meanwhile is held, not refused. Counted, not "until the queue is empty": a client that sends
    /// faster than a slow backend takes would otherwise keep its queue from ever emptying, and be held for ever.</summary>
    private int _heldBacklog;
    private long _lastSeqNo;
    private RecentRoundTrips _roundTrips;
    /// <summary>Round trips recorded since the estimate last started again (at most <see cref="RoundTripsKept"/>).</summary>
    private int _roundTripsSeen;
    private int _nextRoundTrip;

    /// <summary>The round trips of the last frames acknowledged. A backend that is merely slow makes every one of them
    /// long; a stall (a restart, a hand-off) makes one long among short ones.</summary>
    [InlineArray(RoundTripsKept)]
    private struct RecentRoundTrips { private TimeSpan _first; }
    private const int RoundTripsKept = 4;
    /// <summary>A step in flight this many typical round trips long is a stall, not a slow backend.</summary>
    private const int StallRoundTrips = 4;

    public InFlightStep? InFlight { get; private set; }
    public bool IsIdle => InFlight is null && _waiting.Count == 0;
    /// <summary>Below the hold bound: the socket may be read on.</summary>
    public bool CanHoldMore => _waiting.Count < settings.MaxHeldFrames;
    /// <summary>Every frame not yet settled, the one in flight first.</summary>
    public IEnumerable<FrameStep> UnsettledFrames =>
        new[] { InFlight?.Step }.Concat(_waiting).OfType<FrameStep>();

    /// <summary>
    /// Decides whether a client frame may join the queue, and records that a backlog is draining when the step in
    /// flight has stalled. Refused when the client is far ahead of a backend that answers it promptly (it floods), or
    /// when the frame would wait past <see cref="FrontendSettings.MaxQueueWait"/> behind a backend that answers every
    /// frame slowly, past <see cref="SlowRoundTrip"/> (overload: the client is slowed, the latency stays bounded), or
    /// when one frame already waits while nearly every connection's frames wait (<see cref="StandingQueue"/>: overload
    /// that the round trips, short now and then, do not show). While the backend is away, or while the backlog its
    /// absence left drains, held.
    /// </summary>
    public bool Admit(DateTime now)
    {
        var typical = TypicalRoundTrip;
        if (InFlight is { } waiting && now - waiting.FirstSent >= StallAfter(typical)) _heldBacklog = _waiting.Count + 1;
        if (_heldBacklog > 0) return true;
        if (_waiting.Count >= settings.MaxQueuedWhileBusy && IsAnswered(now)) return false;
        // Every connection's frames wait (overload, not a burst or a hand-off): one may wait behind the one in flight.
        if (InFlight is not null && _waiting.Count > 0 && standingQueue?.Stands(now) == true) return false;
        return InFlight is null || typical is not { } roundTrip || roundTrip < SlowRoundTrip
            || (_waiting.Count + 1) * roundTrip <= settings.MaxQueueWait;
    }

    /// <summary>The shortest of the last round trips: what a frame takes now when nothing stalls. None until a few are known.</summary>
    private TimeSpan? TypicalRoundTrip
    {
        get
        {
            if (_roundTripsSeen < RoundTripsKept) return null;
            var shortest = TimeSpan.MaxValue;
            foreach (var roundTrip in _roundTrips) shortest = roundTrip < shortest ? roundTrip : shortest;
            return shortest;
        }
    }

    /// <summary>A backend whose every recent round trip took this long is overloaded (a healthy one takes a few tens of
    /// milliseconds): below it, a burst the client sent at once (a pasted block) is not refused for its length.</summary>
    private static readonly TimeSpan SlowRoundTrip = TimeSpan.FromMilliseconds(100);

    private static TimeSpan StallAfter(TimeSpan? typical) =>
        typical is { } roundTrip && roundTrip * StallRoundTrips > Answering ? roundTrip * StallRoundTrips : Answering;

    public void Enqueue(Step step)
    {
        _waiting.AddLast(step);
        if (step is FrameStep) heldFramesChanged?.Invoke(1);
    }

    /// <summary>A fresh session's attach goes before anything the old one had waiting.</summary>
    public void EnqueueFirst(AttachStep step) => _waiting.AddFirst(step);

    /// <summary>The next step to send, numbered and wrapped by <paramref name="envelopeFor"/>, when nothing is in flight.
    /// The wrapper gets <paramref name="state"/> so that a static lambda serves: no delegate made per step.</summary>
    public InFlightStep? TakeNext<TState>(DateTime now, TState state, Func<TState, Step, long, ISessionEnvelope> envelopeFor)
    {
        if (InFlight is not null || _waiting.First is not { } first) return null;
        _waiting.RemoveFirst();
        var draining = _heldBacklog > 0;
        _heldBacklog = _waiting.Count == 0 ? 0 : Math.Max(0, _heldBacklog - 1);
        // Drained: the round trips of the drain were those of a backend catching up (a moved session recovering), not
        // of one that is slow; the estimate starts again from the frames that follow.
        if (draining && _heldBacklog == 0) _roundTripsSeen = 0;
        // What a stall made wait says nothing about the load: a wait counts from the stall's end at the earliest.
        else if (!draining && first.Value is FrameStep frame)
            standingQueue?.Sent(now - (frame.Arrived > _stallEnded ? frame.Arrived : _stallEnded), now);
        var seqNo = ++_lastSeqNo;
        return InFlight = new InFlightStep(first.Value, seqNo, now, envelopeFor(state, first.Value, seqNo));
    }

    /// <summary>The step in flight, if <paramref name="seqNo"/> is its number: the backend has applied it.</summary>
    public Step? Acknowledge(long seqNo, DateTime now)
    {
        if (InFlight is not { } inFlight || inFlight.SeqNo != seqNo) return null;
        _lastAcknowledged = now;
        _outageSince = null;
        InFlight = null;
        if (inFlight.Step is not FrameStep) return inFlight.Step;
        var roundTrip = now - inFlight.FirstSent;
        if (roundTrip >= Answering) _stallEnded = now;
        if (TypicalRoundTrip is { } typical && roundTrip >= StallAfter(typical))
            _roundTripsSeen = 0; // a stall: the backend's pace is measured afresh after it
        else
        {
            _roundTrips[_nextRoundTrip] = roundTrip;
            _nextRoundTrip = (_nextRoundTrip + 1) % RoundTripsKept;
            if (_roundTripsSeen < RoundTripsKept) _roundTripsSeen++;
        }
        heldFramesChanged?.Invoke(-1);
        return inFlight.Step;
    }

    /// <summary>The step in flight, if <paramref name="seqNo"/> is its number, taken back without being applied.</summary>
    public Step? Refuse(long seqNo)
    {
        if (InFlight is not { } inFlight || inFlight.SeqNo != seqNo) return null;
        InFlight = null;
        if (inFlight.Step is FrameStep) heldFramesChanged?.Invoke(-1);
        return inFlight.Step;
    }

    /// <summary>
    /// Past the hold limit, frames the backend has not taken are given up; during the outage that follows, frames
    /// wait only <see cref="OutageProbe"/>. Attaching is never given up while the client is connected; a closed
    /// client's steps are, at the limit.
    /// </summary>
    public Expiry Expire(DateTime now, bool clientClosed)
    {
        var limit = _outageSince is null ? settings.HoldLimit : OutageProbe;
        var unavailable = new List<FrameStep>();
        if (InFlight is { } inFlight && now - inFlight.FirstSent > limit)
        {
            _outageSince ??= inFlight.FirstSent;
            if (clientClosed) return new Expiry([], GiveUp: true);
            if (inFlight.Step is FrameStep frame)
            {
                unavailable.Add(frame);
                InFlight = null;
            }
        }
        if (_outageSince is null) return unavailable.Count == 0 ? Expiry.Nothing : Expired(unavailable);
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value is FrameStep frame)
            {
                unavailable.Add(frame);
                _waiting.Remove(node);
            }
            node = next;
        }
        return Expired(unavailable);
    }

    private Expiry Expired(List<FrameStep> unavailable)
    {
        heldFramesChanged?.Invoke(-unavailable.Count);
        return new Expiry(unavailable, false);
    }

    /// <summary>The connection is gone: every frame not yet settled, in order, given up.</summary>
    public IReadOnlyList<FrameStep> Abandon()
    {
        var unsettled = UnsettledFrames.ToList();
        InFlight = null;
        _waiting.Clear();
        heldFramesChanged?.Invoke(-unsettled.Count);
        return unsettled;
    }

    /// <summary>The last envelope was acknowledged just now and the one in flight has not waited long either.</summary>
    private bool IsAnswered(DateTime now) =>
        now - _lastAcknowledged < Answering && (InFlight is not { } inFlight || now - inFlight.FirstSent < Answering);
}
