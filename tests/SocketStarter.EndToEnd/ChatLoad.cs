using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace SocketStarter.EndToEnd;

/// <summary>
/// Clients spread over rooms, each saying something at a steady rate and recording what it receives:
/// closes, duplicates, order, gaps, and how long each of its own messages took to come back.
/// </summary>
public sealed class ChatLoad : IAsyncDisposable
{
    private readonly List<LoadClient> _clients = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IReadOnlyList<LoadClient> Clients => _clients;
    public IReadOnlyList<string> Rooms { get; }
    public TimeSpan Now => _clock.Elapsed;

    private ChatLoad(IReadOnlyList<string> rooms) => Rooms = rooms;

    public static async Task<ChatLoad> StartAsync(Uri uri, int clients, int rooms, TimeSpan interval)
    {
        var prefix = Random.Shared.Next(1000, 9999);
        var load = new ChatLoad(Enumerable.Range(0, rooms).Select(r => $"load{prefix}-{r}").ToList());
        for (var i = 0; i < clients; i++)
        {
            var client = new LoadClient(await ChatClient.ConnectAsync(uri), $"u{prefix}x{i}", load.Rooms[i % rooms], load._clock);
            await client.JoinAsync();
            load._clients.Add(client);
        }
        foreach (var client in load._clients)
            load._loops.Add(Task.Run(() => client.RunAsync(interval, load._stop.Token)));
        return load;
    }

    /// <summary>Stops sending and waits until every message sent so far has come back (or the timeout).</summary>
    public async Task StopAsync(TimeSpan drain)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        var deadline = DateTime.UtcNow + drain;
        while (DateTime.UtcNow < deadline && _clients.Any(c => c.Outstanding > 0)) await Task.Delay(200);
    }

    /// <summary>The longest time one of the clients' own messages took to come back, sent within the window.</summary>
    public TimeSpan LongestRoundTrip(TimeSpan from, TimeSpan to) =>
        _clients.SelectMany(c => c.RoundTrips).Where(r => r.SentAt >= from && r.SentAt < to)
            .Select(r => r.Took).DefaultIfEmpty(TimeSpan.Zero).Max();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var client in _clients) await client.Connection.DisposeAsync();
    }
}

public sealed class LoadClient(ChatClient connection, string name, string room, Stopwatch clock)
{
    private readonly ConcurrentDictionary<string, TimeSpan> _sentAt = new();
    private readonly SortedSet<long> _received = new();
    private long _lastLive;
    private long _counter;

    public ChatClient Connection { get; } = connection;
    public string Name { get; } = name;
    public string Room { get; } = room;
    public ConcurrentBag<string> Sent { get; } = new();
    public ConcurrentBag<(TimeSpan SentAt, TimeSpan Took)> RoundTrips { get; } = new();
    public ConcurrentBag<string> Errors { get; } = new();
    public List<(TimeSpan At, long From, long To)> Gaps { get; } = new();
    public int Duplicates { get; private set; }
    public int OutOfOrder { get; private set; }
    public int Outstanding => _sentAt.Count;

    public async Task JoinAsync()
    {
        await Connection.SendAsync(new { type = "register", name = Name });
        await Connection.ExpectAsync("registered", TimeSpan.FromSeconds(30));
        await Connection.SendAsync(new { type = "join", room = Room });
        var joined = await Connection.ExpectAsync("joined", TimeSpan.FromSeconds(30));
        foreach (var message in joined.GetProperty("history").EnumerateArray()) Record(message, live: false);
    }

    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        var reader = Task.Run(ReadAsync);
        await Task.Delay(Random.Shared.Next((int)interval.TotalMilliseconds));
        while (!stop.IsCancellationRequested)
        {
            var id = $"{Name}-{++_counter}";
            _sentAt[id] = clock.Elapsed;
            Sent.Add(id);
            await Connection.SendAsync(new { type = "say", room = Room, text = $"message {_counter} of {Name}", id });
            try { await Task.Delay(interval, stop); } catch (OperationCanceledException) { }
        }
        _ = reader;
    }

    private async Task ReadAsync()
    {
        while (!Connection.Closed)
        {
            JsonElement frame;
            try { frame = await Connection.NextAsync(TimeSpan.FromMinutes(10)); }
            catch (Exception) { return; }
            switch (frame.GetProperty("type").GetString())
            {
                case "message": Record(frame); break;
                case "joined":
                    foreach (var message in frame.GetProperty("history").EnumerateArray()) Record(message, live: false);
                    break;
                case "error": Errors.Add(frame.GetRawText()); break;
            }
        }
    }

    /// <summary>Joins again with <c>since</c> to fetch what a gap left out, as a client does after a crash.</summary>
    public Task CatchUpAsync() => Connection.SendAsync(new { type = "join", room = Room, since = 0 });

    /// <summary>Every seq this client has, live or from a catch-up.</summary>
    public SortedSet<long> Received { get { lock (_received) return new SortedSet<long>(_received); } }

    private void Record(JsonElement message, bool live = true)
    {
        var seq = message.GetProperty("seq").GetInt64();
        lock (_received)
        {
            if (live)
            {
                if (_received.Contains(seq)) Duplicates++;
                else if (seq < _lastLive) OutOfOrder++;
                else if (_lastLive > 0 && seq > _lastLive + 1) Gaps.Add((clock.Elapsed, _lastLive + 1, seq - 1));
                _lastLive = Math.Max(_lastLive, seq);
            }
            _received.Add(seq);
        }
        if (message.GetProperty("from").GetString() == Name && message.TryGetProperty("id", out var id)
            && _sentAt.TryRemove(id.GetString()!, out var sentAt))
            RoundTrips.Add((sentAt, clock.Elapsed - sentAt));
    }
}
