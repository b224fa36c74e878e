using Akka.Actor;
using Akka.Hosting;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Gateway.Backend.Sessions;
using SocketStarter.Gateway.Backend.Topics;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Gateway.Backend;

/// <summary>
/// How an application is added to a backend: <paramref name="Create"/> makes it once the actor system runs (with the
/// registry, to find its own entities), <paramref name="AddEntities"/> registers those entities first.
/// </summary>
public sealed record GatewayApplication(
    Func<IActorRegistry, IGatewayApplication> Create, Func<AkkaConfigurationBuilder, AkkaConfigurationBuilder>? AddEntities = null);

public static class GatewayHostingExtensions
{
    /// <summary>The gateway's session and topic entities on this backend, running <paramref name="application"/>.</summary>
    public static AkkaConfigurationBuilder AddGatewayBackend(
        this AkkaConfigurationBuilder builder, SessionSettings sessions, GatewayApplication application)
    {
        application.AddEntities?.Invoke(builder);
        IGatewayApplication? created = null;
        IGatewayApplication Application(IActorRegistry registry) => created ??= application.Create(registry);
        return builder.AddGatewayShards(
            session: registry =>
            {
                var (topics, app) = (registry.Get<ShardRegions.TopicRegion>(), Application(registry));
                return sessionId => SessionActor.Props(sessionId, topics, app, sessions);
            },
            topic: registry =>
            {
                var frames = Application(registry).Frames;
                return topicId => TopicActor.Props(topicId, frames);
            });
    }
}
