using Akka.Actor;
using Akka.Event;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using SocketStarter.Gateway.Frontend;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using SocketStarter.Samples.Chat;

namespace SocketStarter.Samples.Chat.Mqtt;

/// <summary>
/// Publishes each room message once on <c>rooms/&lt;room&gt;</c> to this frontend's MQTT subscribers, whose
/// subscriptions exist only after their join was confirmed. The payload is the <c>message</c> frame without <c>type</c>.
/// </summary>
public sealed class MqttBridgeActor : ReceiveActor
{
    /// <summary>The sender id of the bridge's publishes, for MQTTnet's logs; no client can connect with it.</summary>
    private const string ClientId = "socketstarter-bridge";

    /// <summary>Marks the bridge's own publishes by an object no client can name or send.</summary>
    private static readonly object BridgeMarker = new();

    /// <summary>Whether the publish being intercepted is the bridge's (only those are routed by MQTTnet).</summary>
    public static bool IsFromBridge(System.Collections.IDictionary? sessionItems) => sessionItems?.Contains(BridgeMarker) == true;

    public static Props Props(MqttServer server) => Akka.Actor.Props.Create(() => new MqttBridgeActor(server));

    public MqttBridgeActor(MqttServer server)
    {
        var log = Context.GetLogger();
        ReceiveAsync<FrontendCommands.TopicFrame>(async roomFrame =>
        {
            // MQTT clients speak the chat: other applications' topics are not theirs to see.
            if (TopicIds.Parse(roomFrame.TopicId) is not (ChatApplication.Name, var room)) return;
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(MqttTopics.ForRoom(room))
                .WithPayload(ServerFrames.MqttPayload(roomFrame.Frame))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            try
            {
                await server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message)
                {
                    SenderClientId = ClientId,
                    CustomSessionItems = new System.Collections.Hashtable { [BridgeMarker] = true },
                }, CancellationToken.None);
            }
            catch (Exception ex)
            {
                log.Warning(ex, "Could not publish message {0} of room {1} to MQTT subscribers", roomFrame.Seq, roomFrame.TopicId);
            }
        });
    }
}

public static class MqttTopics
{
    private const string Prefix = "rooms/";

    public static string ForRoom(string room) => Prefix + room;

    /// <summary>The room of an exact <c>rooms/&lt;room&gt;</c> topic; null for anything else (wildcards included).</summary>
    public static string? Room(string topic) =>
        topic.StartsWith(Prefix, StringComparison.Ordinal) && topic.Length > Prefix.Length
        && topic.IndexOfAny(['/', '+', '#'], Prefix.Length) < 0
            ? topic[Prefix.Length..]
            : null;
}
