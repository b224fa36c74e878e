using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

// Baseline: the chat of docs/protocol.md (register, join, say, message, leave) in one Kestrel process: no actors, no
// cluster, no persistence. What a plain WebSocket server reaches on this machine.
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
    string name = "";
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
                    name = frame.GetProperty("name").GetString()!;
                    client.Send(Encoding.UTF8.GetBytes($"{{\"type\":\"registered\",\"name\":{JsonSerializer.Serialize(name)}}}"));
                    break;
                case "join":
                    var room = rooms.GetOrAdd(frame.GetProperty("room").GetString()!, r => new Room(r));
                    lock (room) room.Members.Add(client);
                    joined.Add(room);
                    client.Send(Encoding.UTF8.GetBytes($"{{\"type\":\"joined\",\"room\":{JsonSerializer.Serialize(room.Name)},\"members\":[],\"history\":[]}}"));
                    break;
                case "leave":
                    var left = joined.First(r => r.Name == frame.GetProperty("room").GetString());
                    lock (left) left.Members.Remove(client);
                    joined.Remove(left);
                    client.Send(Encoding.UTF8.GetBytes($"{{\"type\":\"left\",\"room\":{JsonSerializer.Serialize(left.Name)}}}"));
                    break;
                case "say":
                    var target = rooms[frame.GetProperty("room").GetString()!];
                    var id = frame.TryGetProperty("id", out var idElement) ? idElement.GetString() : null;
                    lock (target)
                    {
                        var bytes = JsonSerializer.SerializeToUtf8Bytes(new
                        {
                            type = "message", room = target.Name, seq = ++target.Seq, from = name,
                            text = frame.GetProperty("text").GetString(), id, ts = DateTime.UtcNow.ToString("O"),
                        });
                        foreach (var member in target.Members) member.Send(bytes);
                    }
                    break;
            }
        }
    }
    catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
    foreach (var room in joined) lock (room) room.Members.Remove(client);
    client.Complete();
    await writer;
});
app.Run();

sealed class Room(string name)
{
    public string Name { get; } = name;
    public long Seq;
    public List<Client> Members { get; } = new();
}

sealed class Client(WebSocket socket)
{
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
