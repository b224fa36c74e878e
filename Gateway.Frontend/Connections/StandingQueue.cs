using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// One per frontend: whether its connections' queues stand, that is whether nearly every frame sent on to a backend
/// had to wait behind the one in flight. That is overload, and the frontend then lets each client have at most one
/// frame waiting (<see cref="SessionLink.Admit"/>). A burst a client sends at once, or a shard moving (its sessions'
/// frames wait a few hundred milliseconds), makes some connections wait while the rest go straight through: those are
/// not refused. A connection's own round trips cannot tell the two apart (a hand-off and overload both make them
/// long); the other connections can. Judged per <see cref="Interval"/> from the waits the links report, as CoDel
/// judges a router's queue by the sojourn of what leaves it rather than by its length.
/// </summary>
public sealed class StandingQueue
{
    /// <summary>How long a judgement holds: a few of a loaded client's frames (8/s at twice the knee), short enough
    /// that a queue that stops standing is let go within a quarter of a second.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    /// <summary>A wait this long is a frame that queued, not one that came just as the one before it was answered.
    /// A fifth of the default <c>MAX_QUEUE_WAIT_MS</c>; at 1000 x 4 (the knee) most frames go at once.</summary>
    public static readonly TimeSpan LongWait = TimeSpan.FromMilliseconds(50);
    /// <summary>Standing from when at least this share of an interval's frames waited long: a hand-off of half the shards
    /// (one of two backends restarting) leaves the other half going straight through. Under load below the knee
    /// (200 x 5) 0-15% of the frames wait that long.</summary>
    private const double StartShare = 0.75;
    /// <summary>Still standing while this share waits long: once frames are refused, fewer wait, and at 1000 x 8 the
    /// share swung between 55% and 100% from one interval to the next, which let the queues grow back every other one.</summary>
    private const double KeepShare = 0.5;
    /// <summary>Too few frames say nothing about the frontend as a whole (a handful of clients).</summary>
    private const int MinFrames = 32;

    private readonly Lock _gate = new();
    private DateTime _intervalStart = DateTime.MinValue;
    private int _frames;
    private int _waitedLong;
    /// <summary>Until when the last judgement that the queues stand holds (<see cref="DateTime.Ticks"/>; 0: the last
    /// judgement was that they do not). Written under <see cref="_gate"/>, read without it by <see cref="Stands"/>.</summary>
    private long _standingUntil;

    /// <summary>A frame left its connection's queue for a backend after waiting <paramref name="waited"/>.</summary>
    public void Sent(TimeSpan waited, DateTime now)
    {
        lock (_gate)
        {
            if (now - _intervalStart >= Interval)
            {
                var share = _standingUntil != 0 ? KeepShare : StartShare; // the last judgement, expired or not
                var standing = _frames >= MinFrames && _waitedLong >= _frames * share;
                Volatile.Write(ref _standingUntil, standing ? (now + Interval).Ticks : 0);
                if (standing) SocketStarterMetrics.StandingQueueIntervals.Add(1);
                _intervalStart = now;
                _frames = 0;
                _waitedLong = 0;
            }
            _frames++;
            if (waited >= LongWait) _waitedLong++;
        }
    }

    /// <summary>The last interval's frames nearly all waited, and that was no longer ago than an interval.</summary>
    public bool Stands(DateTime now) => now.Ticks < Volatile.Read(ref _standingUntil);
}
