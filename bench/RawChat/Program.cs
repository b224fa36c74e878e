using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

// Baseline: the chat of docs/protocol.md (register, join, say, message, leave) in one Kestrel process: no actors, no
// cluster, no persistence. What a plain WebSocket server reaches on this machine. It does the protocol's work that
// the load generator exercises: a join answers with the members and the last 50 messages and tells the others, a
// leave (or a disconnect) tells the others too; until 2026-12-07 it answered joins empty and told nobody, so its
// membership storms cost it far less than they cost SocketStarter (docs/benchmarks.md).
var app = WebApplication.CreateSlimBuilder(args).Build();
app.UseWebSockets();
var rooms = new ConcurrentDictionary<string, Room>();

app.Map("/ws", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest) { context.Response.StatusCode = 400; return; }
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var client = new Client(socket);
    var writer = client.WriteLoopAsync();
    client.Send(Encoding.UTF8.GetBytes("{\"type\":\"welcome\",\"session\":\"raw\",\"resume\":\"raw.x\",\"resumed\":false}"));
    var joined = new List<Room>();
    var buffer = new byte[4 * 1024];
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close) break;
            var frame = JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement;
            switch (frame.GetProperty("type").GetString())
            {
                case "register":
                    client.Name = frame.GetProperty("name").GetString()!;
                    client.Send(Encoding.UTF8.GetBytes($"{{\"type\":\"registered\",\"name\":{JsonSerializer.Serialize(client.Name)}}}"));
                    break;
                case "join":
                    var room = rooms.GetOrAdd(frame.GetProperty("room").GetString()!, r => new Room(r));
                    lock (room)
                    {
                        // Joining twice is not an error, and the others are told once.
                        if (!room.Members.Contains(client))
                        {
                            room.Tell(Presence(room.Name, "joined", client.Name));
                            room.Members.Add(client);
                            joined.Add(room);
                        }
                        client.Send(room.Joined());
                    }
                    break;
                case "leave":
                    var leaving = frame.GetProperty("room").GetString()!;
                    if (joined.FirstOrDefault(r => r.Name == leaving) is { } left)
                    {
                        Leave(left, client);
                        joined.Remove(left);
                    }
                    client.Send(Encoding.UTF8.GetBytes($"{{\"type\":\"left\",\"room\":{JsonSerializer.Serialize(leaving)}}}"));
                    break;
                case "say":
                    var target = rooms[frame.GetProperty("room").GetString()!];
                    var id = frame.TryGetProperty("id", out var idElement) ? idElement.GetString() : null;
                    lock (target)
                    {
                        var bytes = JsonSerializer.SerializeToUtf8Bytes(new
                        {
                            type = "message", room = target.Name, seq = ++target.Seq, from = client.Name,
                            text = frame.GetProperty("text").GetString(), id, ts = DateTime.UtcNow.ToString("O"),
                        });
                        target.Keep(bytes);
                        foreach (var member in target.Members) member.Send(bytes);
                    }
                    break;
            }
        }
    }
    catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
    foreach (var room in joined) Leave(room, client);
    client.Complete();
    await writer;
});
app.Run();

static void Leave(Room room, Client client)
{
    lock (room)
    {
        room.Members.Remove(client);
        room.Tell(Presence(room.Name, "left", client.Name));
    }
}

static byte[] Presence(string room, string change, string name) =>
    Encoding.UTF8.GetBytes($"{{\"type\":\"presence\",\"room\":{JsonSerializer.Serialize(room)},\"{change}\":{JsonSerializer.Serialize(name)}}}");

sealed class Room(string name)
{
    private const int HistoryKept = 50;
    private readonly Queue<byte[]> _history = new();
    public string Name { get; } = name;
    public long Seq;
    public List<Client> Members { get; } = new();

    public void Tell(byte[] frame) { foreach (var member in Members) member.Send(frame); }

    public void Keep(byte[] message)
    {
        _history.Enqueue(message);
        if (_history.Count > HistoryKept) _history.Dequeue();
    }

    /// <summary>The answer to a join: the members' names and the last messages, oldest first.</summary>
    public byte[] Joined()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "joined");
            json.WriteString("room", Name);
            json.WriteStartArray("members");
            foreach (var member in Members) json.WriteStringValue(member.Name);
            json.WriteEndArray();
            json.WriteStartArray("history");
            foreach (var message in _history) json.WriteRawValue(message, skipInputValidation: true);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}

sealed class Client(WebSocket socket)
{
    public string Name = "";
    private readonly Channel<byte[]> _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropWrite });
    public void Send(byte[] frame) => _outbound.Writer.TryWrite(frame);
    public void Complete() => _outbound.Writer.TryComplete();

    public async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var frame in _outbound.Reader.ReadAllAsync())
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        catch (WebSocketException) { }
    }
}
