using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Streams;
using SocketStarter.Frontend;
using SocketStarter.Gateway.Frontend;
using SocketStarter.Gateway.Frontend.Authentication;
using SocketStarter.Gateway.Frontend.Connections;
using SocketStarter.Gateway.Frontend.Operations;
using SocketStarter.Samples.Chat.Frontend;
using SocketStarter.Samples.Chat.Mqtt;
using SocketStarter.Samples.Poll;
using SocketStarter.Samples.Shout;
using SocketStarter.Shared.Hosting;
using SocketStarter.Shared.Hosting.Management;

// A frontend that the cluster downed (cut off from the others) does not exit: its clients are asked to resume
// elsewhere (1012), and it starts over with a fresh actor system and listeners to join again. A SIGTERM or Ctrl-C
// ends the loop.
using var stopSignals = new StopSignals();
var startingOver = false;
while (true)
{
    // No watcher on the working folder for appsettings changes: nothing here reloads, and it costs a thread.
    var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
    builder.Logging.AddNodeLogging();
    var publicUrls = builder.Configuration["urls"] is { Length: > 0 } urls ? urls : "http://127.0.0.1:8080";
    // Every setting is read and checked here, before anything starts: a bad value stops the node with its name.
    var configuration = builder.Configuration;
    var (management, configuredCluster, frontendSettings, origins, authentication, mqtt) = SettingsReader.OrExit(() => (
        ManagementSettings.FromConfiguration(configuration, ManagementSettings.DefaultPort),
        ClusterNodeSettings.FromConfiguration(configuration, ClusterNodeSettings.FrontendRole, ClusterNodeSettings.DefaultFrontendPort),
        FrontendSettings.FromConfiguration(configuration),
        OriginPolicy.FromConfiguration(configuration),
        ClientAuthentication.FromConfigurationAsync(configuration).GetAwaiter().GetResult(),
        MqttSettings.FromConfiguration(configuration)));
    var cluster = startingOver ? configuredCluster.StartingOver() : configuredCluster;
    builder.WebHost.UseUrls([.. publicUrls.Split(';', StringSplitOptions.RemoveEmptyEntries), management.Url]);

    builder.Services.AddSingleton(frontendSettings);
    builder.Services.AddSingleton(origins);
    builder.Services.AddSingleton<AddressLimit>();
    builder.Services.AddSingleton<StandingQueue>();
    builder.Services.AddSingleton(authentication);
    builder.Services.AddSingleton<IMaterializer>(services => services.GetRequiredService<ActorSystem>().Materializer());
    builder.Services.AddSingleton<FrontendDrain>();
    builder.Services.AddSingleton<IApplicationCommand>(services => services.GetRequiredService<FrontendDrain>());
    builder.Services.AddSingleton<FrontendReadiness>();
    SettingsReader.OrExit(() => builder.Services.AddManagement(management, configuration));
    builder.Services.AddHealthChecks().AddCheck<FrontendReadiness>("frontend-accepting", tags: [ManagementEndpoints.ReadyTag]);
    builder.Services.AddAkka(ClusterNodeSettings.SystemName, akka => akka
        .AddSocketStarterCluster(cluster, new Uri(management.Url))
        // The host stops the actor system (Akka.Hosting), after ApplicationStopping has asked clients to resume
        // elsewhere; Akka's own SIGTERM hook would take the system down first and cut every socket (1006).
        .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
        .AddHealthChecks()
        .AddShardRegionProxies()
        .AddConnectionMailbox()
        .AddFanout()
        .AddClientsResumeElsewhere()
        .AddStartup((system, _) => SocketStarterMetrics.ObserveBackendReachable(() => BackendReachable(Cluster.Get(system)))));

    builder.Services.AddSingleton(mqtt);
    builder.Services.AddHostedService<MqttFrontend>();

    await using var app = builder.Build();
    app.UseCoalescedWebSocketWrites();
    app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
    app.MapChatWebSocket("/ws");
    app.MapGatewayWebSocket("/poll/ws", PollApplication.Name);
    app.MapGatewayWebSocket("/shout/ws", ShoutApplication.Name);
    app.MapManagement();
    app.UseClientFiles(builder.Configuration);
    app.UseApplicationPage("/poll", "poll");
    // A stopping frontend first asks its clients to resume elsewhere (1012), as `frontend drain` does, so that none
    // sees its socket cut (1006) when the actor system goes down under it.
    app.Lifetime.ApplicationStopping.Register(() =>
    {
        // Downed: the actor system asked the clients to resume elsewhere as it stopped (ClientsResumeElsewhere).
        if (app.Services.GetRequiredService<ActorSystem>().WhenTerminated.IsCompleted) return;
        try
        {
            app.Services.GetRequiredService<FrontendDrain>().RunAsync(new ManagementCommand.FrontendDrain(), CancellationToken.None)
                .Wait(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is AggregateException or TimeoutException)
        {
            app.Logger.LogWarning(e, "Could not ask every client to resume elsewhere before stopping");
        }
    });
    app.Lifetime.ApplicationStarted.Register(() =>
        Console.WriteLine($"Management endpoint: {management.Url} (./ssctl {management.Host}:{management.Port} help)"));
    await app.StartAsync();
    var system = app.Services.GetRequiredService<ActorSystem>();
    await app.WaitForShutdownAsync();

    var reason = CoordinatedShutdown.Get(system).ShutdownReason;
    if (stopSignals.IsRequested || reason is not (CoordinatedShutdown.ClusterDowningReason or CoordinatedShutdown.ClusterJoinUnsuccessfulReason)) break;
    Console.Error.WriteLine(reason is CoordinatedShutdown.ClusterDowningReason
        ? "This frontend was downed by the cluster; its clients were asked to resume elsewhere; starting over."
        : "Could not join the cluster in time; starting over.");
    startingOver = true;
}

static bool BackendReachable(Cluster cluster)
{
    var state = cluster.State;
    return state.Members.Any(m => m.HasRole(ClusterNodeSettings.BackendRole) && m.Status == MemberStatus.Up && !state.Unreachable.Contains(m));
}
