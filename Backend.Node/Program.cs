using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocketStarter.Backend;
using SocketStarter.Backend.Membership;
using SocketStarter.Gateway.Backend;
using SocketStarter.Samples.Chat;
using SocketStarter.Samples.Poll;
using SocketStarter.Samples.Shout;
using SocketStarter.Shared.Hosting;
using SocketStarter.Shared.Hosting.Management;

// A backend that cannot join within the watchdog time (akka.cluster.shutdown-after-unsuccessful-join-seed-nodes),
// or that the cluster downed, shuts its actor system down; it then starts over with a fresh one rather than hang
// or exit. A SIGTERM or Ctrl-C ends the loop.
using var stopSignals = new StopSignals();
var firstStart = true;
while (true)
{
    // No watcher on the working folder for appsettings changes: it woke up on every journal write.
    var builder = WebApplication.CreateSlimBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
    builder.Logging.AddNodeLogging();
    // Every setting is read and checked here, before anything starts: a bad value stops the node with its name.
    var configuration = builder.Configuration;
    var (cluster, settings, chat, management) = SettingsReader.OrExit(() => (
        ClusterNodeSettings.FromConfiguration(configuration, ClusterNodeSettings.BackendRole, defaultPort: 0),
        BackendSettings.FromConfiguration(configuration),
        ChatSettings.FromConfiguration(configuration),
        ManagementSettings.FromConfiguration(configuration, defaultPort: 0)));
    var journal = JournalSettings.FromConfiguration(configuration).Prepare();

    // The backend's only HTTP listener is its management endpoint: commands, health and metrics.
    builder.WebHost.UseUrls(management.Url);
    SettingsReader.OrExit(() => builder.Services.AddManagement(management, configuration));
    builder.Services.AddAkka(ClusterNodeSettings.SystemName, akka => akka
        .AddSocketStarterCluster(cluster, new Uri(management.Url), beforeJoining: firstStart
            ? JournalWarmupHostingExtensions.WarmJournal(recoveries: 16, limit: TimeSpan.FromSeconds(10))
            // Starting over, this process's connection pool and compiled queries are warm already, and a cut-off
            // backend starts over at once, while its database may well be unreachable.
            : null)
        .AddHealthChecks()
        .AddHocon($"akka.cluster.shutdown-after-unsuccessful-join-seed-nodes = {settings.JoinWatchdog.TotalSeconds}s", HoconAddMode.Prepend)
        // From the connection string, not a linq2db DataOptions: configured so, the journal made a rolling deploy of
        // three backends stall 5-14 s at its later restarts (docs/benchmarks.md, "the journal's DataOptions").
        .WithSqlPersistence(journal.ConnectionString, journal.ProviderName,
            // Ready only while the journal answers: a backend that cannot persist cannot acknowledge anything.
            journalBuilder: journalBuilder => journalBuilder.WithHealthCheck(HealthStatus.Unhealthy, "journal", [ManagementEndpoints.ReadyTag]))
        .WithJournalTuning(journal)
        .AddGatewayBackend(settings.Sessions, ChatApplication.Registration(chat), PollApplication.Registration(), ShoutApplication.Registration())
        .AddFrontendWatchdog(settings.NoFrontendRejoin));

    await using var host = builder.Build();
    host.MapManagement();
    await host.StartAsync();
    Console.WriteLine($"Management endpoint: {management.Url} (./ssctl {management.Host}:{management.Port} help)");
    var system = host.Services.GetRequiredService<ActorSystem>();
    await host.WaitForShutdownAsync();

    var reason = CoordinatedShutdown.Get(system).ShutdownReason;
    if (stopSignals.IsRequested || reason is not (CoordinatedShutdown.ClusterJoinUnsuccessfulReason or CoordinatedShutdown.ClusterDowningReason
        or FrontendWatchdogActor.NoFrontendReason)) break;
    Console.Error.WriteLine(reason switch
    {
        CoordinatedShutdown.ClusterDowningReason => "This node was downed by the cluster; starting over.",
        FrontendWatchdogActor.NoFrontendReason => "No frontend left in this cluster; starting over to join the seeds.",
        _ => "Could not join the cluster in time; starting over.",
    });
    firstStart = false;
    if (reason is CoordinatedShutdown.ClusterDowningReason)
    {
        Console.Error.WriteLine($"Joining again in {settings.DownedRejoinDelay.TotalSeconds:F0} s, once the others have given up on this address's old incarnation.");
        try
        {
            await Task.Delay(settings.DownedRejoinDelay, stopSignals.Token);
        }
        catch (OperationCanceledException)
        {
            break;
        }
    }
}
