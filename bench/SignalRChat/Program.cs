using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

// Baseline: what a .NET developer would write instead: an ASP.NET Core SignalR hub, rooms as groups, one process.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddSignalR();
var app = builder.Build();
app.MapHub<ChatHub>("/chat");
app.Run();

public sealed class ChatHub : Hub
{
    private static readonly ConcurrentDictionary<string, StrongBox> Sequences = new();

    public async Task Join(string name, string room)
    {
        Context.Items["name"] = name;
        await Groups.AddToGroupAsync(Context.ConnectionId, room);
    }

    public Task Say(string room, string text, string id)
    {
        var seq = Interlocked.Increment(ref Sequences.GetOrAdd(room, _ => new StrongBox()).Value);
        return Clients.Group(room).SendAsync("message", room, seq, (string)Context.Items["name"]!, text, id, DateTime.UtcNow.ToString("O"));
    }

    private sealed class StrongBox
    {
        public long Value;
    }
}
