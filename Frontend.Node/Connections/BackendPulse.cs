namespace SocketStarter.Frontend.Connections;

/// <summary>
/// When this frontend last heard a backend acknowledge anything. It tells a busy backend from an absent one:
/// while acknowledgements keep arriving, a connection with a long queue is ahead of what the backend can take
/// (its client is answered <c>rate_limited</c>); when none arrive, the backend is away and frames are held.
/// </summary>
public sealed class BackendPulse
{
    /// <summary>Longer than any gap between acknowledgements under load; far shorter than a backend restart.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(500);

    private long _lastBeat = long.MinValue / 2;

    public void Beat() => Volatile.Write(ref _lastBeat, Environment.TickCount64);

    public bool IsAnswering => Environment.TickCount64 - Volatile.Read(ref _lastBeat) <= Window.TotalMilliseconds;
}
