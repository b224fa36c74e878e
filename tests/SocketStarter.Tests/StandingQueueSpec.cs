using SocketStarter.Gateway.Frontend.Connections;

namespace SocketStarter.Tests;

/// <summary>The frontend's judgement of overload: nearly every frame waits, not just those of a few connections.</summary>
public sealed class StandingQueueSpec
{
    private static readonly DateTime T0 = new(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Long = TimeSpan.FromMilliseconds(200);
    private readonly StandingQueue _queues = new();

    /// <summary>One interval from <paramref name="start"/>: <paramref name="waited"/> of <paramref name="frames"/>
    /// frames waited long, the rest went at once; judged by the first frame of the next interval.</summary>
    private DateTime Interval(DateTime start, int frames, int waited)
    {
        for (var i = 0; i < frames; i++) _queues.Sent(i < waited ? Long : TimeSpan.Zero, start);
        var next = start + StandingQueue.Interval;
        _queues.Sent(TimeSpan.Zero, next);
        return next;
    }

    [Fact]
    public void When_nearly_every_frame_waited_the_queues_stand_for_the_next_interval_and_no_longer_without_frames()
    {
        _queues.Sent(TimeSpan.Zero, T0); // the first frame opens the first interval
        var judged = Interval(T0, frames: 100, waited: 90);
        Assert.True(_queues.Stands(judged));
        Assert.False(_queues.Stands(judged + StandingQueue.Interval)); // no frame since: the load may be gone
    }

    [Fact]
    public void A_hand_off_that_holds_up_half_the_connections_does_not_make_the_queues_stand()
    {
        _queues.Sent(TimeSpan.Zero, T0);
        Assert.False(_queues.Stands(Interval(T0, frames: 100, waited: 50)));
    }

    [Fact]
    public void A_handful_of_clients_says_nothing_about_the_frontend()
    {
        _queues.Sent(TimeSpan.Zero, T0);
        Assert.False(_queues.Stands(Interval(T0, frames: 20, waited: 20)));
    }

    [Fact]
    public void The_queues_start_to_stand_at_three_quarters_of_the_frames_waiting_and_stand_while_half_still_do()
    {
        _queues.Sent(TimeSpan.Zero, T0);
        var t = Interval(T0, frames: 100, waited: 60);
        Assert.False(_queues.Stands(t));
        t = Interval(t, frames: 100, waited: 80);
        Assert.True(_queues.Stands(t));
        t = Interval(t, frames: 100, waited: 55); // frames refused, fewer wait: still overload
        Assert.True(_queues.Stands(t));
        t = Interval(t, frames: 100, waited: 40);
        Assert.False(_queues.Stands(t));
    }
}
