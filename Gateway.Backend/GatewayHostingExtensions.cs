using System.Text.RegularExpressions;
using Akka.Hosting;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Gateway.Backend.Sessions;
using SocketStarter.Gateway.Backend.Topics;
using SocketStarter.Messages;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Gateway.Backend;

/// <summary>
/// How an application is added to a backend: <paramref name="Name"/> is the one frontends attach its connections with
/// (lower case letters), <paramref name="Create"/> makes it once the actor system runs (with the registry, to find
/// its own entities), <paramref name="AddEntities"/> registers those entities first.
/// </summary>
public sealed record GatewayApplication(
    string Name, Func<IActorRegistry, IGatewayApplication> Create, Func<AkkaConfigurationBuilder, AkkaConfigurationBuilder>? AddEntities = null);

public static partial class GatewayHostingExtensions
{
    /// <summary>The gateway's session and topic entities on this backend, running <paramref name="applications"/>.</summary>
    public static AkkaConfigurationBuilder AddGatewayBackend(
        this AkkaConfigurationBuilder builder, SessionSettings sessions, params GatewayApplication[] applications)
    {
        if (applications.Length == 0 || applications.Any(a => !ValidName().IsMatch(a.Name)) || applications.DistinctBy(a => a.Name).Count() < applications.Length)
            throw new ArgumentException("Each application needs a name of its own, of lower case letters.", nameof(applications));
        foreach (var application in applications) application.AddEntities?.Invoke(builder);
        IReadOnlyDictionary<string, IGatewayApplication>? created = null;
        IReadOnlyDictionary<string, IGatewayApplication> Created(IActorRegistry registry) =>
            created ??= applications.ToDictionary(a => a.Name, a => a.Create(registry));
        return builder.AddGatewayShards(
            session: registry =>
            {
                var (topics, running) = (registry.Get<ShardRegions.TopicRegion>(), Created(registry));
                return sessionId => SessionActor.Props(sessionId, topics, running, sessions);
            },
            topic: registry =>
            {
                var running = Created(registry);
                return topicId => TopicActor.Props(topicId, running[TopicIds.Parse(topicId).Application].Frames);
            });
    }

    [GeneratedRegex("^[a-z]{1,32}$")]
    private static partial Regex ValidName();
}
