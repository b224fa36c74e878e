using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace SocketStarter.EndToEnd;

/// <summary>A protocol client over a real WebSocket, recording every frame it receives.</summary>
public sealed class ChatClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonElement> _frames = Channel.CreateUnbounded<JsonElement>();
    private readonly Task _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public WebSocketCloseStatus? CloseStatus { get; private set; }
    public bool Closed { get; private set; }
    public JsonElement Welcome { get; private set; }

    private ChatClient(ClientWebSocket socket)
    {
        _socket = socket;
        _reader = Task.Run(ReadLoop);
    }

    /// <param name="origin">The <c>Origin</c> header a browser page would send; none by default, as a non-browser client.</param>
    public static async Task<ChatClient> ConnectAsync(Uri uri, string? resume = null, string? origin = null)
    {
        var socket = new ClientWebSocket();
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        var target = resume is null ? uri : new Uri($"{uri}?resume={Uri.EscapeDataString(resume)}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(target, timeout.Token);
        var client = new ChatClient(socket);
        client.Welcome = await client.ExpectAsync("welcome", TimeSpan.FromSeconds(30));
        return client;
    }

    /// <summary>A client registered as <paramref name="name"/> and in <paramref name="room"/>, its answers read.</summary>
    public static async Task<ChatClient> InRoomAsync(Uri uri, string name, string room)
    {
        var wait = TimeSpan.FromSeconds(20);
        var client = await ConnectAsync(uri);
        await client.SendAsync(new { type = "register", name });
        await client.ExpectAsync("registered", wait);
        await client.SendAsync(new { type = "join", room });
        await client.ExpectAsync("joined", wait);
        return client;
    }

    public string SessionId => Welcome.GetProperty("session").GetString()!;
    public string ResumeToken => Welcome.GetProperty("resume").GetString()!;

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public async Task SendTextAsync(string text) => await SendRawAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next frame of <paramref name="type"/> (and matching <paramref name="match"/>), skipping others.</summary>
    public async Task<JsonElement> ExpectAsync(string type, TimeSpan timeout, Func<JsonElement, bool>? match = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var frame = await _frames.Reader.ReadAsync(cts.Token);
                if (frame.GetProperty("type").GetString() == type && (match?.Invoke(frame) ?? true)) return frame;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No '{type}' frame within {timeout}");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"Connection closed ({CloseStatus}) while waiting for '{type}'");
        }
    }

    /// <summary>The next frame, whatever it is.</summary>
    public async Task<JsonElement> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await _frames.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Frames already received and not yet read.</summary>
    public List<JsonElement> Drain()
    {
        var list = new List<JsonElement>();
        while (_frames.Reader.TryRead(out var frame)) list.Add(frame);
        return list;
    }

    public async Task<WebSocketCloseStatus?> WaitClosedAsync(TimeSpan timeout)
    {
        await _reader.WaitAsync(timeout);
        return CloseStatus;
    }

    private async Task ReadLoop()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length).ToArraySegment(), CancellationToken.None);
                    length += result.Count;
                } while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = result.CloseStatus;
                    break;
                }
                using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
                await _frames.Writer.WriteAsync(document.RootElement.Clone());
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            Closed = true;
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception)
        {
            _socket.Abort();
        }
        _socket.Dispose();
    }
}

internal static class MemoryExtensions
{
    public static ArraySegment<byte> ToArraySegment(this Memory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(memory, out var segment) ? segment : throw new InvalidOperationException();
}
