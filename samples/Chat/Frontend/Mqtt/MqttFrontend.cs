using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using MQTTnet.Server;
using SocketStarter.Gateway.Frontend;
using SocketStarter.Gateway.Frontend.Authentication;
using SocketStarter.Gateway.Frontend.Connections;
using SocketStarter.Gateway.Frontend.Operations;
using SocketStarter.Messages.ClientProtocol;
using SocketStarter.Samples.Chat;
using SocketStarter.Samples.Chat.Frontend;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Samples.Chat.Mqtt;

/// <summary>
/// The MQTT 3.1.1/5 listener. MQTTnet parses the wire; every CONNECT, SUBSCRIBE, PUBLISH, UNSUBSCRIBE and
/// DISCONNECT becomes a client frame on the same connection-actor and envelope path as a WebSocket's. Each
/// acknowledgement is held until the backend has done the work: MQTTnet awaits these interceptors before it
/// sends CONNACK, SUBACK or PUBACK, and runs one client's packets one at a time.
/// </summary>
public sealed class MqttFrontend(
    MqttSettings settings, FrontendSettings frontend, ActorSystem system, ActorRegistry registry, IMaterializer materializer,
    AddressLimit addresses, ClientAuthentication authentication, StandingQueue standingQueue, FrontendReadiness readiness,
    ILogger<MqttFrontend> log) : IHostedService
{
    private const string LinkKey = "socketstarter.link";
    /// <summary>Client ids starting so are the frontend's to assign: no client may choose one.</summary>
    private const string ReservedClientIdPrefix = "socketstarter-";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ConcurrentDictionary<string, ClientLink> _clients = new();
    private MqttServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!settings.Enabled) return;
        // Our own listener instead of MQTTnet's: exactly the configured address (MQTTnet's also takes [::]), and
        // packet sizes checked before MQTTnet allocates them.
        var options = new MqttServerOptionsBuilder().Build();
        _server = new MqttServerFactory().CreateMqttServer(options,
            [new MqttListener(new IPEndPoint(IPAddress.Parse(settings.Host), settings.Port))]);
        _server.ValidatingConnectionAsync += OnConnectAsync;
        _server.InterceptingSubscriptionAsync += OnSubscribeAsync;
        _server.InterceptingPublishAsync += OnPublishAsync;
        _server.InterceptingUnsubscriptionAsync += OnUnsubscribeAsync;
        _server.ClientDisconnectedAsync += OnDisconnectedAsync;
        await _server.StartAsync();

        var bridge = system.ActorOf(MqttBridgeActor.Props(_server), "mqtt-bridge");
        registry.Get<FanoutHostingExtensions.Fanout>().Tell(new FanoutActor.ListenToTopics(bridge));
        log.LogInformation("MQTT listening on {Host}:{Port}", settings.Host, settings.Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.StopAsync(new MqttServerStopOptions());
    }

    private async Task OnConnectAsync(ValidatingConnectionEventArgs e)
    {
        var name = string.IsNullOrEmpty(e.UserName) ? e.ClientId : e.UserName;
        if (e.ClientId.StartsWith(ReservedClientIdPrefix, StringComparison.OrdinalIgnoreCase))
        {
            // Ids the frontend assigns; a client naming one could take over another client's connection.
            e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            log.LogInformation("MQTT client refused: client id {ClientId} is reserved", e.ClientId);
            return;
        }
        if (string.IsNullOrEmpty(e.ClientId) && e.CleanSession == false)
        {
            // MQTT 3.1.1 (3.1.3-8): a client without an id has no session to come back to, so it must start clean.
            e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            log.LogInformation("MQTT client {UserName} refused: no client id and not a clean session", e.UserName);
            return;
        }
        if (readiness.NotAccepting() is { } reason)
        {
            e.ReasonCode = MqttConnectReasonCode.ServerUnavailable;
            log.LogInformation("MQTT client refused: this frontend is not serving now ({Reason})", reason);
            return;
        }
        var address = (e.RemoteEndPoint as IPEndPoint)?.Address;
        if (!addresses.TryTake(address))
        {
            e.ReasonCode = e.ProtocolVersion == MqttProtocolVersion.V500 ? MqttConnectReasonCode.QuotaExceeded : MqttConnectReasonCode.ServerUnavailable;
            log.LogInformation("MQTT client refused: {Max} connections from its address already", frontend.MaxConnectionsPerAddress);
            return;
        }
        var clientId = string.IsNullOrEmpty(e.ClientId) ? AssignClientId(e) : e.ClientId;
        var channel = new MqttChannel(_server!, clientId);
        var connection = system.ActorOf(ConnectionActor.Props(channel, ChatApplication.Name, resumable: false, resumeToken: null,
            registry.Get<ShardRegions.SessionRegion>(), registry.Get<FanoutHostingExtensions.Fanout>(), frontend, materializer,
            new TaskCompletionSource(), authentication, ChatFrontend.Identity, standingQueue));
        var link = new ClientLink(connection, channel, e.ProtocolVersion, frontend.HoldLimit, () => addresses.Release(address));

        // With authentication on, the password is the JWT that proves the name (docs/security.md).
        var (applied, errors) = await link.RunAsync(new { type = "register", name, token = authentication.Enabled ? e.Password : null });
        e.ReasonCode = !applied && errors.Any(error => error.Code == ErrorCodes.Unauthorized) ? MqttConnectReasonCode.BadUserNameOrPassword
            : !applied ? MqttConnectReasonCode.ServerUnavailable
            : errors.Any(error => error.Code == ChatErrorCodes.NameTaken) && link.IsV5 ? MqttConnectReasonCode.NotAuthorized
            : errors.Count > 0 ? MqttConnectReasonCode.ClientIdentifierNotValid
            : MqttConnectReasonCode.Success;
        if (e.ReasonCode != MqttConnectReasonCode.Success)
        {
            log.LogInformation("MQTT client {ClientId} refused ({Reason}): {Errors}", clientId, e.ReasonCode,
                applied ? string.Join(", ", errors.Select(error => error.Code)) : "no backend within the hold limit");
            link.Close();
            return;
        }
        e.SessionItems[LinkKey] = link;
        if (_clients.TryGetValue(clientId, out var previous)) previous.Close(); // a takeover of the same client id
        _clients[clientId] = link;
    }

    /// <summary>
    /// A client with no client id (mosquitto_pub's default) gets one, as MQTT 3.1.3-6 allows and Mosquitto does.
    /// MQTTnet 5.2 assigns ids to MQTT 5 clients only and refuses a 3.1.1 client whose CONNECT still has none after
    /// this event, so the id goes into that packet too (a field of the event args; the MQTT tests pin the behaviour).
    /// </summary>
    private static string AssignClientId(ValidatingConnectionEventArgs e)
    {
        var clientId = e.AssignedClientIdentifier = $"{ReservedClientIdPrefix}{Guid.NewGuid():N}";
        if (e.ProtocolVersion != MqttProtocolVersion.V500 && ConnectPacket.GetValue(e) is MqttConnectPacket packet) packet.ClientId = clientId;
        return clientId;
    }

    private static readonly FieldInfo ConnectPacket =
        typeof(ValidatingConnectionEventArgs).GetField("_connectPacket", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new InvalidOperationException("This MQTTnet version keeps the CONNECT packet elsewhere: update AssignClientId");

    private async Task OnSubscribeAsync(InterceptingSubscriptionEventArgs e)
    {
        if (!_clients.TryGetValue(e.ClientId, out var link)) return;
        var room = MqttTopics.Room(e.TopicFilter.Topic);
        var accepted = room is not null && room == room.ToLowerInvariant()
                       && await link.RunAsync(new { type = "join", room }) is (true, { Count: 0 });
        e.ProcessSubscription = accepted;
        if (accepted) link.JoinedRooms.Add(room!);
        e.Response.ReasonCode = !accepted ? MqttSubscribeReasonCode.UnspecifiedError
            : e.TopicFilter.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce ? MqttSubscribeReasonCode.GrantedQoS0
            : MqttSubscribeReasonCode.GrantedQoS1;
    }

    private async Task OnPublishAsync(InterceptingPublishEventArgs e)
    {
        if (MqttBridgeActor.IsFromBridge(e.SessionItems)) return;
        // Only the backend decides who receives what: the library never routes (nor retains) a client's publish.
        e.ProcessPublish = false;
        if (!_clients.TryGetValue(e.ClientId, out var link)) return;

        // The same limits as a WebSocket frame, before anything goes to a backend.
        var payload = e.ApplicationMessage.Payload;
        if (payload.Length > FrontendSettings.MaxFrameBytes)
        {
            log.LogInformation("MQTT client {ClientId} closed: a publish of {Bytes} bytes is over the 64 KiB limit", e.ClientId, payload.Length);
            e.CloseConnection = true;
            return;
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            Refuse(e, link, MqttPubAckReasonCode.PayloadFormatInvalid);
            return;
        }

        if (MqttTopics.Room(e.ApplicationMessage.Topic) is not { } room)
        {
            Refuse(e, link, MqttPubAckReasonCode.TopicNameInvalid);
            return;
        }
        // A publish-only client (mosquitto_pub) never subscribes: publishing to a room joins it first.
        if (!link.JoinedRooms.Contains(room))
        {
            var (joinApplied, joinErrors) = await link.RunAsync(new { type = "join", room });
            if (!joinApplied) { e.CloseConnection = true; return; }
            if (joinErrors.Count > 0) { Refuse(e, link, MqttPubAckReasonCode.TopicNameInvalid); return; }
            link.JoinedRooms.Add(room);
        }
        var (applied, errors) = await link.RunAsync(new { type = "say", room, text });
        if (!applied)
            e.CloseConnection = true; // no backend within the hold limit: no PUBACK, the client publishes again later
        else if (errors.Count > 0)
            Refuse(e, link, errors[0].Code == ChatErrorCodes.NotJoined ? MqttPubAckReasonCode.NotAuthorized : MqttPubAckReasonCode.PayloadFormatInvalid);
    }

    /// <summary>MQTT 5 says why in the PUBACK; 3.1.1 has no negative PUBACK, so the connection is closed instead.</summary>
    private static void Refuse(InterceptingPublishEventArgs e, ClientLink link, MqttPubAckReasonCode reason)
    {
        if (link.IsV5)
            e.Response.ReasonCode = reason;
        else
            e.CloseConnection = true;
    }

    private async Task OnUnsubscribeAsync(InterceptingUnsubscriptionEventArgs e)
    {
        if (_clients.TryGetValue(e.ClientId, out var link) && MqttTopics.Room(e.Topic) is { } room && link.JoinedRooms.Remove(room))
            await link.RunAsync(new { type = "leave", room });
    }

    private Task OnDisconnectedAsync(ClientDisconnectedEventArgs e)
    {
        if (e.SessionItems[LinkKey] is ClientLink link)
        {
            _clients.TryRemove(new KeyValuePair<string, ClientLink>(e.ClientId, link));
            link.Close();
        }
        return Task.CompletedTask;
    }

    /// <summary>One MQTT client's connection actor, and how to run one of its operations to the backend's answer.</summary>
    private sealed class ClientLink(IActorRef connection, MqttChannel channel, MqttProtocolVersion version, TimeSpan holdLimit,
        Action releaseAddress)
    {
        private int _closed;

        public bool IsV5 => version == MqttProtocolVersion.V500;

        /// <summary>Rooms joined through this connection (MQTTnet runs one client's packets one at a time).</summary>
        public HashSet<string> JoinedRooms { get; } = new(StringComparer.Ordinal);

        public async Task<(bool Applied, IReadOnlyList<(string Code, string? Ref)> Errors)> RunAsync(object frame)
        {
            channel.BeginOperation();
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Tell(new ConnectionActor.TextFrame(JsonSerializer.Serialize(frame), done));
            // The connection actor settles every frame by the hold limit; the margin only guards against its loss.
            var applied = await done.Task.WaitAsync(holdLimit + TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully && t.Result);
            return (applied, channel.Errors);
        }

        /// <summary>The client is gone: its session ends at once (an MQTT clean session has no resume window).</summary>
        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1) return;
            releaseAddress();
            connection.Tell(ConnectionActor.InboundCompleted.Instance);
        }
    }
}
