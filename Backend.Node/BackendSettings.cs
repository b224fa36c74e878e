using SocketStarter.Gateway.Backend.Sessions;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Backend;

/// <summary>Every backend tunable a deployer may set, with its default, its range and why; read and checked at start.</summary>
public sealed record BackendSettings(SessionSettings Sessions, TimeSpan JoinWatchdog, TimeSpan NoFrontendRejoin, TimeSpan DownedRejoinDelay)
{
    public static BackendSettings FromConfiguration(IConfiguration configuration)
    {
        var read = new SettingsReader(configuration);
        return new(
            new SessionSettings(
                // How long a disconnected client may come back to its name and rooms (docs/protocol.md).
                ResumeWindow: read.Seconds("RESUME_WINDOW_SECONDS", 60, min: 1, max: 86_400),
                // A call to a topic or an application entity unanswered this long is sent again (a shard moving).
                RetryInterval: TimeSpan.FromMilliseconds(500)),
            // A join not completed by then starts the actor system over rather than hang.
            JoinWatchdog: read.Seconds("JOIN_WATCHDOG_SECONDS", 20, min: 2, max: 3600),
            // A few seconds more than a frontend takes to restart: sooner, a backend would leave during an ordinary one.
            NoFrontendRejoin: read.Seconds("NO_FRONTEND_REJOIN_SECONDS", 5, min: 1, max: 3600),
            // The others keep trying to reach a downed node's address for akka.remote.handshake-timeout (15 s) after they
            // removed it; a new incarnation that joined before those attempts failed lost its association with them when
            // they did (both sides unreachable 7 s later, downed again, a fresh client's register unanswered for 15 s: the
            // backend cut-off test, 1 run in 3 in CI). 15 s plus 5 s for their removal to lag behind this node's own.
            DownedRejoinDelay: read.Seconds("DOWNED_REJOIN_DELAY_SECONDS", 20, min: 0, max: 3600));
    }
}
