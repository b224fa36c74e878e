using System.Net.WebSockets;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>The client end of a connection, as its <see cref="ConnectionActor"/> writes to it: one per protocol.</summary>
public interface IClientChannel
{
    /// <summary>Writes one server frame (docs/protocol.md's JSON, UTF-8).</summary>
    Task WriteAsync(ReadOnlyMemory<byte> utf8Frame);

    /// <summary>Writes several server frames in order; a channel that can, in one write to the client.</summary>
    Task WriteAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> utf8Frames) => WriteEachAsync(this, utf8Frames);

    /// <summary>The frames written one by one, for a channel that cannot gather them.</summary>
    protected static async Task WriteEachAsync(IClientChannel channel, ReadOnlyMemory<ReadOnlyMemory<byte>> utf8Frames)
    {
        for (var i = 0; i < utf8Frames.Length; i++) await channel.WriteAsync(utf8Frames.Span[i]);
    }

    /// <summary>Closes after what was written; a client that does not take the close in time is aborted.</summary>
    Task CloseAsync(WebSocketCloseStatus status, string reason);
}

/// <summary>A WebSocket client.</summary>
/// <param name="connection">The stream under <paramref name="socket"/>, when the server gave it one that can gather
/// several frames into one write (<see cref="CoalescingStreamExtensions.UseCoalescedWebSocketWrites"/>).</param>
public sealed class WebSocketChannel(WebSocket socket, CoalescingStream? connection = null) : IClientChannel
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(3);

    public async Task WriteAsync(ReadOnlyMemory<byte> utf8Frame)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            await socket.SendAsync(utf8Frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    public async Task WriteAsync(ReadOnlyMemory<ReadOnlyMemory<byte>> utf8Frames)
    {
        if (connection is null)
        {
            await IClientChannel.WriteEachAsync(this, utf8Frames);
            return;
        }
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        connection.Hold();
        try
        {
            // Gathered while held (the stream completes these sends at once), then written with the last frame.
            for (var i = 0; i < utf8Frames.Length - 1; i++)
                await socket.SendAsync(utf8Frames.Span[i], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            connection.WriteHeldWithNext();
            await socket.SendAsync(utf8Frames.Span[^1], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        catch
        {
            connection.DropHeld();
            throw;
        }
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
