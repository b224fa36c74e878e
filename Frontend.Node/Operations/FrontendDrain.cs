using Akka.Actor;
using Akka.Hosting;
using SocketStarter.Frontend.Connections;
using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Frontend.Operations;

/// <summary>
/// <c>frontend drain</c>: this frontend takes no new connections (and reports not ready) and closes its
/// connections with 1012 (service restart), so clients resume their sessions on another frontend.
/// </summary>
public sealed class FrontendDrain(ActorRegistry registry) : IApplicationCommand
{
    private volatile bool _draining;

    public bool Draining => _draining;

    public bool CanRun(ManagementCommand command) => command is ManagementCommand.FrontendDrain;

    public async Task<string> RunAsync(ManagementCommand command, CancellationToken cancellation)
    {
        _draining = true;
        var closed = await registry.Get<FanoutHostingExtensions.Fanout>()
            .Ask<FanoutActor.Drained>(FanoutActor.Drain.Instance, TimeSpan.FromSeconds(5), cancellation);
        return $"Draining: no new connections here; {closed.Connections} connections asked to resume elsewhere.";
    }
}
