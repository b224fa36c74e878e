using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace SocketStarter.Bench.LoadGen;

/// <summary>One chat client of a system under test; <see cref="Received"/> fires for every chat message.</summary>
public abstract class ChatConnection : IAsyncDisposable
{
    public Action<string, long, string>? Received; // room, seq, id
    public bool Closed { get; protected set; }
    /// <summary>Frames the server answered with <c>unavailable</c> (held past its hold limit, not posted).</summary>
    public int Unavailable;
    /// <summary>Frames the server refused with <c>rate_limited</c>: not posted, so no delivery is expected.</summary>
    public int RateLimited;

    public abstract Task JoinAsync(string name, string room);
    public abstract Task SayAsync(string room, string text, string id);
    /// <summary>Leaves the room and waits for the answer.</summary>
    public abstract Task LeaveAsync(string room);

    /// <summary>Fetches the room's kept history (<c>join</c> with <c>since</c>) and records each message's seq.</summary>
    public virtual Task CatchUpAsync(string room, long since, Action<long> record) => Task.CompletedTask;
    public abstract ValueTask DisposeAsync();

    /// <summary>Client sockets spread over 127.0.0.2-51, so 10k connections do not run out of ephemeral ports.</summary>
    public static HttpMessageInvoker InvokerFor(int index) => Invokers[index % Invokers.Length];

    private static readonly HttpMessageInvoker[] Invokers = Enumerable.Range(2, 50).Select(last => new HttpMessageInvoker(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellation) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.0.{last}"), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })).ToArray();
}

/// <summary>docs/protocol.md over a WebSocket: SocketStarter's frontend and the raw baseline.</summary>
public sealed class ProtocolConnection : ChatConnection
{
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private TaskCompletionSource _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action<long>? _history;
    private Task _reader = Task.CompletedTask;

    public static async Task<ProtocolConnection> ConnectAsync(Uri uri, int index)
    {
        var connection = new ProtocolConnection();
        await connection._socket.ConnectAsync(uri, InvokerFor(index), CancellationToken.None);
        connection._reader = Task.Run(connection.ReadAsync);
        return connection;
    }

    public override async Task JoinAsync(string name, string room)
    {
        await Request(new { type = "register", name });
        await Request(new { type = "join", room });
    }

    private async Task Request(object frame)
    {
        _answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Send(frame);
        await _answered.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public override Task SayAsync(string room, string text, string id) => Send(new { type = "say", room, text, id });

    public override Task LeaveAsync(string room) => Request(new { type = "leave", room });

    public override async Task CatchUpAsync(string room, long since, Action<long> record)
    {
        if (Closed) return;
        _history = record;
        try { await Request(new { type = "join", room, since }); }
        catch (TimeoutException) { }
    }

    private async Task Send(object frame)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame);
        await _sendLock.WaitAsync();
        try { await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None); }
        finally { _sendLock.Release(); }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                } while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close) break;
                Handle(buffer.AsSpan(0, length));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
        Closed = true;
    }

    private void Handle(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        string? type = null, room = null, id = null, code = null;
        long seq = 0;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1) continue;
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "type": type = reader.GetString(); break;
                case "room": room = reader.GetString(); break;
                case "seq": seq = reader.GetInt64(); break;
                case "id": id = reader.GetString(); break;
                case "code": code = reader.GetString(); break;
                default: reader.Skip(); break;
            }
        }
        if (type == "message") Received?.Invoke(room!, seq, id!);
        else if (type == "error" && code == "unavailable") Interlocked.Increment(ref Unavailable);
        else if (type == "error" && code == "rate_limited") Interlocked.Increment(ref RateLimited);
        else if (type is "registered" or "joined" or "left" or "error")
        {
            if (type == "joined" && _history is { } record) RecordHistory(json, record);
            _answered.TrySetResult();
        }
    }

    private static void RecordHistory(ReadOnlySpan<byte> json, Action<long> record)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        foreach (var message in document.RootElement.GetProperty("history").EnumerateArray()) record(message.GetProperty("seq").GetInt64());
    }

    public override async ValueTask DisposeAsync()
    {
        try { _socket.Abort(); } catch (Exception) { }
        await _reader;
        _socket.Dispose();
    }
}

/// <summary>The SignalR baseline's hub client.</summary>
public sealed class SignalRConnection : ChatConnection
{
    private HubConnection _hub = null!;

    public static async Task<SignalRConnection> ConnectAsync(Uri uri, int index)
    {
        var connection = new SignalRConnection();
        connection._hub = new HubConnectionBuilder()
            .WithUrl(uri, options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                options.WebSocketFactory = async (context, cancellation) =>
                {
                    var socket = new ClientWebSocket();
                    await socket.ConnectAsync(context.Uri, InvokerFor(index), cancellation);
                    return socket;
                };
            })
            .Build();
        connection._hub.On<string, long, string, string, string, string>("message",
            (room, seq, _, _, id, _) => connection.Received?.Invoke(room, seq, id));
        connection._hub.Closed += _ => { connection.Closed = true; return Task.CompletedTask; };
        await connection._hub.StartAsync();
        return connection;
    }

    public override Task JoinAsync(string name, string room) => _hub.InvokeAsync("Join", name, room);
    public override Task SayAsync(string room, string text, string id) => _hub.SendAsync("Say", room, text, id);
    public override Task LeaveAsync(string room) => throw new NotSupportedException("the SignalR baseline's hub has no leave");
    public override ValueTask DisposeAsync() => _hub.DisposeAsync();
}
