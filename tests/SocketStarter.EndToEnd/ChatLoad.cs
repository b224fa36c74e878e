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

    /// <summary>A moment of this load's clock as wall-clock time (UTC), to find it in the nodes' logs.</summary>
    public string WallClock(TimeSpan at) => (DateTime.UtcNow - _clock.Elapsed + at).ToString("HH:mm:ss.fff");

    private ChatLoad(IReadOnlyList<string> rooms) => Rooms = rooms;

    public static Task<ChatLoad> StartAsync(Uri uri, int clients, int rooms, TimeSpan interval) =>
        StartAsync([uri], clients, rooms, interval, resume: false);

    /// <summary>
    /// Clients spread over the frontends at <paramref name="uris"/>. With <paramref name="resume"/>, a client whose
    /// socket is closed resumes its session on the next frontend, as the browser client does behind a load balancer.
    /// </summary>
    public static async Task<ChatLoad> StartAsync(IReadOnlyList<Uri> uris, int clients, int rooms, TimeSpan interval, bool resume)
    {
        var prefix = Random.Shared.Next(1000, 9999);
        var load = new ChatLoad(Enumerable.Range(0, rooms).Select(r => $"load{prefix}-{r}").ToList());
        for (var i = 0; i < clients; i++)
        {
            var client = new LoadClient(await ChatClient.ConnectAsync(uris[i % uris.Count]), $"u{prefix}x{i}", load.Rooms[i % rooms],
                load._clock, resume ? uris.Skip(i % uris.Count).Concat(uris.Take(i % uris.Count)).ToList() : []);
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
        _clients.Select(c => c.LongestRoundTrip(from, to)).DefaultIfEmpty(TimeSpan.Zero).Max();

    /// <summary>The client whose own message, sent within the window, took longest to come back: its name, session,
    /// room and how often it moved to another frontend.</summary>
    public string SlowestClient(TimeSpan from, TimeSpan to) =>
        _clients.MaxBy(c => c.LongestRoundTrip(from, to)) is { } slowest && slowest.SlowestRoundTrip(from, to).SentAt is var sentAt
            ? $"{slowest.Name} (session {slowest.Connection.SessionId}, room {slowest.Room}, its slowest message sent at "
              + $"{sentAt.TotalSeconds:F1} s ({WallClock(sentAt)} UTC), moved {slowest.Resumes.Count} times"
              + string.Concat(slowest.Resumes.OrderBy(r => r.ClosedAt).Select(r =>
                  $"; closed ({r.Close}) at {r.ClosedAt.TotalSeconds:F1} s, resumed at {r.ResumedAt.TotalSeconds:F1} s after {r.Attempts} attempts"
                  + (r.LastFailure is null ? "" : $", the last failed with: {r.LastFailure}")))
              + ")"
            : "none";

    private static readonly TimeSpan AuditWait = TimeSpan.FromSeconds(15);

    /// <summary>A fresh client reads each room's whole history: seq 1..N with no hole, every sent id exactly once.</summary>
    public async Task AssertRoomsHoldEverySentMessageOnce(Uri frontend)
    {
        var histories = await ReadHistoriesAsync(frontend);
        foreach (var room in Rooms)
        {
            var history = histories[room];
            var seqs = history.Select(m => m.GetProperty("seq").GetInt64()).ToList();
            Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
            var ids = history.Select(m => m.GetProperty("id").GetString()!).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            var sent = Clients.Where(c => c.Room == room).SelectMany(c => c.Sent).ToHashSet();
            Assert.Empty(sent.Except(ids));
            foreach (var client in Clients.Where(c => c.Room == room))
                Assert.Equal(seqs, client.Received.Where(s => s >= seqs[0]));
        }
    }

    /// <summary>
    /// Each room's whole history, as a fresh client reads it. A frontend that asks its clients to resume elsewhere
    /// (1012: it was downed and starts over) has the reader do what any client does: connect again, read again.
    /// </summary>
    private async Task<Dictionary<string, List<JsonElement>>> ReadHistoriesAsync(Uri frontend)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var reader = await ChatClient.ConnectAsync(frontend);
            try
            {
                await reader.SendAsync(new { type = "register", name = $"auditor{Random.Shared.Next(100000)}" });
                await reader.ExpectAsync("registered", AuditWait);
                var histories = new Dictionary<string, List<JsonElement>>();
                foreach (var room in Rooms)
                {
                    await reader.SendAsync(new { type = "join", room, since = 0 });
                    histories[room] = (await reader.ExpectAsync("joined", AuditWait, f => f.GetProperty("room").GetString() == room))
                        .GetProperty("history").EnumerateArray().ToList();
                }
                return histories;
            }
            catch (InvalidOperationException) when ((int?)reader.CloseStatus == 1012 && attempt < 3)
            {
                Console.WriteLine($"the audit's frontend asked it to resume elsewhere (1012); reading again (attempt {attempt + 1})");
            }
        }
    }

    /// <summary>Every client still connected (the last socket of one that resumed), nothing twice, out of order or unanswered.</summary>
    public void AssertNothingLost(bool allowGaps)
    {
        foreach (var client in Clients)
        {
            Assert.False(client.Connection.Closed, $"{client.Name} was disconnected ({client.Connection.CloseStatus})");
            Assert.Equal(0, client.Duplicates);
            Assert.Equal(0, client.OutOfOrder);
            Assert.Empty(client.Errors);
            if (!allowGaps) Assert.Empty(client.Gaps);
            Assert.Equal(0, client.Outstanding);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var client in _clients) await client.Connection.DisposeAsync();
    }
}

/// <summary>A socket of a client closed (<paramref name="Close"/>: "1012", "no close frame") and its session resumed on
/// <paramref name="ResumedOn"/>; <paramref name="ClosedAt"/> is the read that failed, <paramref name="ResumedAt"/> the
/// welcome on the new socket.</summary>
public sealed record Resume(string Close, string ResumedOn, TimeSpan ClosedAt, TimeSpan ResumedAt, int Attempts, string? LastFailure);

/// <param name="frontends">Where to resume when the socket is closed, the first one being where it started; none: it does not.</param>
public sealed class LoadClient(ChatClient connection, string name, string room, Stopwatch clock, IReadOnlyList<Uri> frontends)
{
    private readonly ConcurrentDictionary<string, TimeSpan> _sentAt = new();
    private readonly ConcurrentDictionary<string, string> _unanswered = new();
    private readonly ConcurrentDictionary<string, int> _refusals = new();
    private int _frontend;
    private readonly SortedSet<long> _received = new();
    private long _lastLive;
    private long _counter;

    public ChatClient Connection { get; private set; } = connection;
    /// <summary>How each socket this client had was closed, and where and when it resumed.</summary>
    public ConcurrentBag<Resume> Resumes { get; } = new();
    public string Name { get; } = name;
    public string Room { get; } = room;
    public ConcurrentBag<string> Sent { get; } = new();
    public ConcurrentBag<(TimeSpan SentAt, TimeSpan Took)> RoundTrips { get; } = new();

    /// <summary>This client's message, sent within the window, that took longest to come back (zeros if none).</summary>
    public (TimeSpan SentAt, TimeSpan Took) SlowestRoundTrip(TimeSpan from, TimeSpan to) =>
        RoundTrips.Where(r => r.SentAt >= from && r.SentAt < to).DefaultIfEmpty().MaxBy(r => r.Took);

    /// <summary>The longest time one of this client's messages sent within the window took to come back.</summary>
    public TimeSpan LongestRoundTrip(TimeSpan from, TimeSpan to) => SlowestRoundTrip(from, to).Took;
    public ConcurrentBag<string> Errors { get; } = new();
    public List<(TimeSpan At, long From, long To)> Gaps { get; } = new();
    public int Duplicates { get; private set; }
    public int OutOfOrder { get; private set; }
    public int Outstanding => _sentAt.Count;
    /// <summary>Messages the service refused for now (rate_limited) and this client sent again.</summary>
    public int RateLimited => _rateLimited;
    private int _rateLimited;

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
            var text = $"message {_counter} of {Name}";
            _sentAt[id] = clock.Elapsed;
            _unanswered[id] = text;
            Sent.Add(id);
            await SendUnlessResumingAsync(new { type = "say", room = Room, text, id });
            try { await Task.Delay(interval, stop); } catch (OperationCanceledException) { }
        }
        _ = reader;
    }

    private async Task ReadAsync()
    {
        while (true)
        {
            JsonElement frame;
            try { frame = await Connection.NextAsync(TimeSpan.FromMinutes(10)); }
            catch (Exception)
            {
                if (frontends.Count == 0 || !await ResumeAsync()) return;
                continue;
            }
            switch (frame.GetProperty("type").GetString())
            {
                case "message": Record(frame); break;
                case "joined":
                    foreach (var message in frame.GetProperty("history").EnumerateArray()) Record(message, live: false);
                    break;
                case "error" when IsRefusedForNow(frame, out var id):
                    // As the browser client does: the message is sent again after a pause, under the same id.
                    Interlocked.Increment(ref _rateLimited);
                    _ = ResendLaterAsync(id);
                    break;
                case "error": Errors.Add(frame.GetRawText()); break;
            }
        }
    }

    /// <summary>A say of ours that the service refused for now (rate_limited), named by its id.</summary>
    private bool IsRefusedForNow(JsonElement frame, out string id)
    {
        id = frame.TryGetProperty("id", out var named) ? named.GetString() ?? "" : "";
        return frame.GetProperty("code").GetString() == "rate_limited" && _unanswered.ContainsKey(id);
    }

    /// <summary>Each refusal of the same message doubles its pause (250 ms to 4 s, give or take a quarter).</summary>
    private async Task ResendLaterAsync(string id)
    {
        var refusals = _refusals.AddOrUpdate(id, 1, (_, n) => n + 1);
        var pause = Math.Min(250 << Math.Min(refusals - 1, 4), 4000);
        await Task.Delay(TimeSpan.FromMilliseconds(pause * (0.75 + Random.Shared.NextDouble() / 2)));
        if (_unanswered.TryGetValue(id, out var text)) await SendUnlessResumingAsync(new { type = "say", room = Room, text, id });
    }

    /// <summary>
    /// Sends on the current socket. A socket going away is left to the resume, which joins again with <c>since</c> and
    /// sends again, with the same ids, what was not answered; a client that does not resume lets the failure through.
    /// </summary>
    private async Task SendUnlessResumingAsync(object frame)
    {
        try { await Connection.SendAsync(frame); }
        catch (Exception) when (frontends.Count > 0) { }
    }

    /// <summary>
    /// Resumes the session on the next frontend (backing off while none answers), then does what the browser client
    /// does: joins again with <c>since</c> for what it missed and sends again, with the same ids, what was not answered.
    /// </summary>
    private async Task<bool> ResumeAsync()
    {
        var closed = Connection;
        var close = closed.CloseStatus is { } status ? ((int)status).ToString() : "no close frame";
        var closedAt = clock.Elapsed;
        string? lastFailure = null;
        for (var attempt = 0; attempt < 120; attempt++)
        {
            _frontend = (_frontend + 1) % frontends.Count;
            try
            {
                var resumed = await ChatClient.ConnectAsync(frontends[_frontend], closed.ResumeToken);
                if (!resumed.Welcome.GetProperty("resumed").GetBoolean())
                {
                    Errors.Add($"resume refused on {frontends[_frontend]}");
                    return false;
                }
                Connection = resumed;
                Resumes.Add(new Resume(close, frontends[_frontend].ToString(), closedAt, clock.Elapsed, attempt + 1, lastFailure));
                long since;
                lock (_received) since = _lastLive;
                await resumed.SendAsync(new { type = "join", room = Room, since });
                foreach (var (id, text) in _unanswered) await resumed.SendAsync(new { type = "say", room = Room, text, id });
                return true;
            }
            catch (Exception failure)
            {
                lastFailure = failure.Message;
                await Task.Delay(500);
            }
        }
        Errors.Add("could not resume on any frontend within a minute");
        return false;
    }

    /// <summary>Joins again with <c>since</c> to fetch what a gap left out, as a client does after a crash.</summary>
    public Task CatchUpAsync() => Connection.SendAsync(new { type = "join", room = Room, since = 0 });

    /// <summary>Every seq this client has, live or from a catch-up.</summary>
    public SortedSet<long> Received { get { lock (_received) return new SortedSet<long>(_received); } }

    private void Record(JsonElement message, bool live = true)
    {
        var seq = message.GetProperty("seq").GetInt64();
        long? gapAfter = null;
        lock (_received)
        {
            if (live)
            {
                if (_received.Contains(seq)) Duplicates++;
                else if (seq < _lastLive) OutOfOrder++;
                else if (_lastLive > 0 && seq > _lastLive + 1)
                {
                    Gaps.Add((clock.Elapsed, _lastLive + 1, seq - 1));
                    gapAfter = _lastLive;
                }
                _lastLive = Math.Max(_lastLive, seq);
            }
            _received.Add(seq);
        }
        // As the browser client does: what a gap left out is asked for at once, so its messages' round trips are what
        // a user would wait for them, not the time until the test's final catch-up.
        if (gapAfter is { } since) _ = SendUnlessResumingAsync(new { type = "join", room = Room, since });
        if (message.GetProperty("from").GetString() == Name && message.TryGetProperty("id", out var id)
            && _sentAt.TryRemove(id.GetString()!, out var sentAt))
        {
            _unanswered.TryRemove(id.GetString()!, out _);
            RoundTrips.Add((sentAt, clock.Elapsed - sentAt));
        }
    }
}
