using SocketStarter.Gateway.Frontend.Connections;
using static SocketStarter.Gateway.Frontend.Connections.FrameRateLimit;

namespace SocketStarter.Tests;

public sealed class FrameRateLimitSpec
{
    private static TimeSpan At(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void A_burst_passes_then_frames_over_the_rate_are_refused()
    {
        var limit = new FrameRateLimit(perSecond: 10, burst: 5);
        for (var i = 0; i < 5; i++) Assert.Equal(Verdict.Pass, limit.Take(At(0)));
        Assert.Equal(Verdict.Refuse, limit.Take(At(0)));
        // A tenth of a second earns one frame back.
        Assert.Equal(Verdict.Pass, limit.Take(At(0.1)));
        Assert.Equal(Verdict.Refuse, limit.Take(At(0.1)));
    }

    [Fact]
    public void A_client_at_the_rate_is_never_refused()
    {
        var limit = new FrameRateLimit(perSecond: 10, burst: 5);
        for (var i = 0; i < 1000; i++) Assert.Equal(Verdict.Pass, limit.Take(At(i * 0.1)));
    }

    [Fact]
    public void A_client_that_goes_on_flooding_after_being_refused_is_closed()
    {
        var limit = new FrameRateLimit(perSecond: 10, burst: 3);
        for (var i = 0; i < 3; i++) limit.Take(At(0));
        Assert.Equal(Verdict.Refuse, limit.Take(At(0)));
        Assert.Equal(Verdict.Refuse, limit.Take(At(0)));
        Assert.Equal(Verdict.Close, limit.Take(At(0)));
    }

    [Fact]
    public void One_frame_let_through_starts_the_count_of_refusals_again()
    {
        var limit = new FrameRateLimit(perSecond: 10, burst: 3);
        for (var i = 0; i < 3; i++) limit.Take(At(0));
        limit.Take(At(0));
        limit.Take(At(0));
        Assert.Equal(Verdict.Pass, limit.Take(At(0.1)));
        Assert.Equal(Verdict.Refuse, limit.Take(At(0.1)));
        Assert.Equal(Verdict.Refuse, limit.Take(At(0.1)));
    }
}
