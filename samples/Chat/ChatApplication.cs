using Akka.Actor;
using Akka.Hosting;
using SocketStarter.Gateway.Backend;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Samples.Chat;

/// <summary>The chat of docs/protocol.md as a gateway application: rooms are topics, a user's name is its presence.</summary>
public sealed class ChatApplication(IActorRef names, ChatSettings settings) : IGatewayApplication
{
    /// <summary>What frontends attach chat connections with.</summary>
    public const string Name = "chat";
    public const string NameTypeName = "name";

    /// <summary>The name registry's shard region, in the actor registry.</summary>
    public sealed class NameRegion;

    private readonly ChatRules _rules = new(names, settings);

    public ITopicFrames Frames { get; } = new ChatFrames();

    public Step Decide(SessionView session, string frame) => _rules.Decide(session, ChatRequest.Parse(frame));

    public Step Ended(SessionView session) => _rules.Ended(session);

    /// <summary>The chat for <see cref="GatewayHostingExtensions.AddGatewayBackend"/>: its name registry and its serializer.</summary>
    public static GatewayApplication Registration(ChatSettings settings) => new(
        Name,
        registry => new ChatApplication(registry.Get<NameRegion>(), settings),
        builder => builder
            .WithCustomSerializer("socketstarter-chat", [typeof(IChatContract)], system => new ChatSerializer(system))
            .AddBackendShard<NameRegion>(NameTypeName, NameActor.Props, message => (message as IWithNameKey)?.NameKey));
}
