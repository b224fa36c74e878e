using Akka.Actor;
using Akka.Streams;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using SocketStarter.Frontend;
using SocketStarter.Frontend.Connections;
using SocketStarter.Shared.Hosting;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls("http://127.0.0.1:8080");

var cluster = ClusterNodeSettings.FromConfiguration(builder.Configuration, ClusterNodeSettings.FrontendRole, ClusterNodeSettings.DefaultFrontendPort);
builder.Services.AddSingleton(FrontendSettings.FromConfiguration(builder.Configuration));
builder.Services.AddSingleton<IMaterializer>(services => services.GetRequiredService<ActorSystem>().Materializer());
builder.Services.AddAkka(ClusterNodeSettings.SystemName, akka => akka
    .AddSocketStarterCluster(cluster)
    .WithShardRegionProxy<ShardRegions.SessionRegion>(ShardRegions.Session, ClusterNodeSettings.BackendRole, ShardRegions.SessionExtractor)
    .AddFanout());

var app = builder.Build();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
app.MapChatWebSocket();
app.UseClientFiles(builder.Configuration);
app.Run();
