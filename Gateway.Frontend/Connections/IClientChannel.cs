using System.Net.WebSockets;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>The client end of a connection, as its <see cref="ConnectionActor"/> writes to it: one per protocol.</summary>
public interface IClientChannel
{
    /// <summary>Writes one server frame (docs/protocol.md's JSON, UTF-8).</summary>
    Task WriteAsync(ReadOnlyMemory<byte> utf8Frame);

    /// <summary>Closes after what was written; a client that does not take the close in time is aborted.</summary>
    Task CloseAsync(WebSocketCloseStatus status, string reason);
}

/// <summary>A WebSocket client.</summary>
public sealed class WebSocketChannel(WebSocket socket) : IClientChannel
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(3);

    public async Task WriteAsync(ReadOnlyMemory<byte> utf8Frame)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            await socket.SendAsync(utf8Frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        try
        {
            // Waits for a send in progress: a client that reads nothing at all is aborted instead.
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            socket.Abort();
        }
    }
}
