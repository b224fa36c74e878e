using Akka.Actor;
using Akka.Hosting;
using SocketStarter.Gateway.Frontend.Connections;
using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Gateway.Frontend.Operations;

/// <summary>
/// <c>frontend drain</c>: this frontend takes no new connections (and reports not ready) and closes its
/// connections with 1012 (service restart), so clients resume their sessions on another frontend.
/// <c>frontend undrain</c> takes connections again (a drain started by mistake, or a deploy called off).
/// </summary>
public sealed class FrontendDrain(ActorRegistry registry) : IApplicationCommand
{
    private volatile bool _draining;

    public bool Draining => _draining;

    public bool CanRun(ManagementCommand command) => command is ManagementCommand.FrontendDrain or ManagementCommand.FrontendUndrain;

    public async Task<string> RunAsync(ManagementCommand command, CancellationToken cancellation)
    {
        if (command is ManagementCommand.FrontendUndrain)
        {
            var was = _draining;
            _draining = false;
            return was ? "Accepting connections here again." : "This frontend was not draining; nothing changed.";
        }
        _draining = true;
        var closed = await registry.Get<FanoutHostingExtensions.Fanout>()
            .Ask<FanoutActor.Drained>(FanoutActor.Drain.Instance, TimeSpan.FromSeconds(5), cancellation);
        return $"Draining: no new connections here; {closed.Connections} connections asked to resume elsewhere.";
    }
}
