namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// How fast one connection may send frames: a token bucket of <paramref name="burst"/> frames refilled at
/// <paramref name="perSecond"/>. A frame over the rate is refused (the client gets <c>rate_limited</c>); a client
/// that goes on sending a whole burst of refused frames in a row is closed.
/// </summary>
public sealed class FrameRateLimit(double perSecond, int burst)
{
    public enum Verdict { Pass, Refuse, Close }

    private double _tokens = burst;
    private TimeSpan _last;
    private int _refusedInARow;

    /// <param name="now">Any monotonic clock reading (the connection actor uses the process's uptime).</param>
    public Verdict Take(TimeSpan now)
    {
        _tokens = Math.Min(burst, _tokens + (now - _last).TotalSeconds * perSecond);
        _last = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            _refusedInARow = 0;
            return Verdict.Pass;
        }
        return ++_refusedInARow >= burst ? Verdict.Close : Verdict.Refuse;
    }
}
