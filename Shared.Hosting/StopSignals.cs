using System.Runtime.InteropServices;

namespace SocketStarter.Shared.Hosting;

/// <summary>
/// A SIGTERM or Ctrl-C, remembered for a node's start-over loop however its host stopped: one that came while the
/// cluster was downing the node (its host stopping already) must end the loop, not be lost to a start-over. The
/// host still stops itself on the signal; this only records it.
/// </summary>
public sealed class StopSignals : IDisposable
{
    // Not disposed: a signal handler may still run on its own thread after the registrations are gone.
    private readonly CancellationTokenSource _requested = new();
    private readonly PosixSignalRegistration _sigterm;
    private readonly PosixSignalRegistration _sigint;

    public StopSignals()
    {
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Requested);
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Requested);
    }

    public bool IsRequested => _requested.IsCancellationRequested;

    /// <summary>Cancelled by the signal: for waits with no host running.</summary>
    public CancellationToken Token => _requested.Token;

    private void Requested(PosixSignalContext signal)
    {
        signal.Cancel = true;
        _requested.Cancel();
    }

    public void Dispose()
    {
        _sigterm.Dispose();
        _sigint.Dispose();
    }
}
