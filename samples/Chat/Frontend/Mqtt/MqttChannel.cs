using System.Net.WebSockets;
using System.Text.Json;
using MQTTnet.Server;
using SocketStarter.Gateway.Frontend;
using SocketStarter.Gateway.Frontend.Connections;

namespace SocketStarter.Samples.Chat.Mqtt;

/// <summary>
/// An MQTT client's end of its connection actor. MQTT has no frames for answers: the errors written here tell
/// the pending CONNECT, SUBSCRIBE or PUBLISH how the backend answered. Room messages reach MQTT subscribers
/// through <see cref="MqttBridgeActor"/> instead, once per message rather than once per client.
/// </summary>
public sealed class MqttChannel(MqttServer server, string clientId) : IClientChannel
{
    private readonly List<(string Code, string? Ref)> _errors = new();

    /// <summary>Starts collecting the answers of the next operation (MQTTnet runs one client's packets one by one).</summary>
    public void BeginOperation()
    {
        lock (_errors) _errors.Clear();
    }

    public IReadOnlyList<(string Code, string? Ref)> Errors
    {
        get { lock (_errors) return _errors.ToList(); }
    }

    public Task WriteAsync(ReadOnlyMemory<byte> utf8Frame)
    {
        var reader = new Utf8JsonReader(utf8Frame.Span);
        using var frame = JsonDocument.ParseValue(ref reader);
        var root = frame.RootElement;
        if (root.GetProperty("type").GetString() == "error")
            lock (_errors)
                _errors.Add((root.GetProperty("code").GetString()!, root.TryGetProperty("ref", out var r) ? r.GetString() : null));
        return Task.CompletedTask;
    }

    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            await server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions());
        }
        catch (Exception)
        {
            // Already gone: the usual case, since the client's disconnect is what closes it.
        }
    }
}
