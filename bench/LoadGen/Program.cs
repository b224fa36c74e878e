using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using SocketStarter.Bench.LoadGen;

// LoadGen chat --system socketstarter|raw|signalr --url URL --clients N --rooms R --rate MSG_PER_S --seconds S
//              [--pids PID,...] [--backend-metrics URL] [--scenario NAME] [--fault-at S --fault-cmd "shell command"]
//              [--warmup S]  first S seconds at 200 x 5 on other connections and rooms, not recorded (the generator's JIT)
//              [--churn N]   at --fault-at (default 5 s) N more clients join the rooms, and 4 s later all leave at once:
//                            what membership storms (a frontend's clients arriving, a crowd leaving) do to the others
//              [--churn-expire]  the crowd disconnects instead of leaving: its sessions end when the resume window
//                            (RESUME_WINDOW_SECONDS on the backends) runs out
// LoadGen idle --system ... --url URL --clients N --pids PID [--hold S]
//              --hold: keep the connections S seconds after measuring, e.g. for dotnet-gcdump (docs/profile.md)
// Prints one JSON object with the figures.
// LoadGen report RESULTS.jsonl OUT.json OUT.md     the benchmark page
// LoadGen targets RESULTS.jsonl                    the targets, one line each
if (args.FirstOrDefault() == "report")
{
    Report.Write(args[1], args[2], args[3]);
    return 0;
}
if (args.FirstOrDefault() == "targets")
{
    foreach (var line in Report.TargetLines(args[1])) Console.WriteLine(line);
    return 0;
}
var options = Options.Parse(args);
var result = options.Mode switch
{
    "chat" => await Chat(options),
    "idle" => await Idle(options),
    _ => throw new ArgumentException("mode: chat or idle"),
};
Console.WriteLine(JsonSerializer.Serialize(result));
return 0;

static async Task<ChatConnection> Connect(Options o, int index) => o.System == "signalr"
    ? await SignalRConnection.ConnectAsync(o.Url, index)
    : await ProtocolConnection.ConnectAsync(o.Url, index);

/// <summary>Connects (and joins) 64 clients at a time; <paramref name="timings"/>, if given, gets each client's
/// seconds to connect and to register and join.</summary>
static async Task<List<ChatConnection>> ConnectAll(Options o, string run, Func<int, string>? roomOf, int? count = null,
    ConcurrentBag<(double Connect, double Join)>? timings = null)
{
    var clients = new ChatConnection[count ?? o.Clients];
    using var gate = new SemaphoreSlim(64);
    await Task.WhenAll(Enumerable.Range(0, clients.Length).Select(async i =>
    {
        await gate.WaitAsync();
        try
        {
            var started = Stopwatch.GetTimestamp();
            clients[i] = await Connect(o, i);
            var connected = Stopwatch.GetTimestamp();
            if (roomOf is not null) await clients[i].JoinAsync($"b{run}x{i}", roomOf(i));
            timings?.Add((Stopwatch.GetElapsedTime(started, connected).TotalMilliseconds, Stopwatch.GetElapsedTime(connected).TotalMilliseconds));
        }
        finally { gate.Release(); }
    }));
    return clients.ToList();
}

static async Task<object> Idle(Options o)
{
    var before = ProcessStats.Rss(o.Pids);
    var clock = Stopwatch.StartNew();
    // Idle: connected (SocketStarter: with a session attached), nothing else.
    var clients = await ConnectAll(o, Guid.NewGuid().ToString("N")[..6], roomOf: null);
    var connectSeconds = clock.Elapsed.TotalSeconds;
    await Task.Delay(TimeSpan.FromSeconds(5));
    var after = ProcessStats.Rss(o.Pids);
    var closed = clients.Count(c => c.Closed);
    if (o.HoldSeconds > 0)
    {
        Console.Error.WriteLine($"{o.Clients} connections open; held {o.HoldSeconds} s");
        await Task.Delay(TimeSpan.FromSeconds(o.HoldSeconds));
    }
    foreach (var client in clients) await client.DisposeAsync();
    return new
    {
        scenario = "idle", system = o.System, connections = o.Clients, closed,
        connectSeconds = Math.Round(connectSeconds, 1),
        rssBeforeMiB = Math.Round(before / 1048576.0, 1), rssAfterMiB = Math.Round(after / 1048576.0, 1),
        bytesPerConnection = Math.Round((after - before) / (double)o.Clients),
    };
}

static async Task<object> Chat(Options o)
{
    // The generator's own warm-up: a fresh process runs its receive and send paths as tier-0 code on a cold thread pool
    // while two saturated cores leave its JIT little time; at 1000 x 4 that alone put 2 s on the p99 of every system
    // (docs/benchmarks.md, 2026-12-06). Its own clients and rooms at 200 x 5, nothing recorded, then the measured run.
    if (o.WarmupSeconds > 0)
        await Chat(o with { Clients = 200, Rooms = 10, Rate = 5, Seconds = o.WarmupSeconds, WarmupSeconds = 0, Pids = [], BackendMetrics = null,
                            FaultCommand = null, Scenario = "warmup", Churn = 0 });
    var run = Guid.NewGuid().ToString("N")[..6];
    string RoomOf(int i) => $"bench{run}r{i % o.Rooms}";
    var clients = await ConnectAll(o, run, RoomOf);
    if (o.Churn > 0 && double.IsNaN(o.FaultAt)) o = o with { FaultAt = 5 };
    var roomSize = Enumerable.Range(0, o.Clients).GroupBy(RoomOf).ToDictionary(g => g.Key, g => g.Count());

    var receivers = clients.Select((c, i) => new Receiver(c, RoomOf(i))).ToList();
    var sent = new ConcurrentBag<(string Room, long SentTicks)>();
    var latencies = new ConcurrentQueue<(double SentAt, double Millis)>();
    var clock = Stopwatch.StartNew();
    var clockStart = Stopwatch.GetTimestamp();
    foreach (var receiver in receivers)
        receiver.Connection.Received = (room, seq, id) =>
        {
            var sentTicks = long.Parse(id.AsSpan(id.LastIndexOf('-') + 1));
            // A gap (after a crash): catch up at once with `since`, as a real client does.
            if (receiver.Record(seq) is { } missingFrom)
                _ = receiver.Connection.CatchUpAsync(room, missingFrom - 1, receiver.Recover);
            var now = Stopwatch.GetTimestamp();
            latencies.Enqueue((Stopwatch.GetElapsedTime(clockStart, sentTicks).TotalSeconds, Stopwatch.GetElapsedTime(sentTicks, now).TotalMilliseconds));
        };

    var cpuBefore = ProcessStats.CpuSeconds(o.Pids);
    var allocatedBefore = o.BackendMetrics is null ? 0 : await ProcessStats.AllocatedBytes(o.BackendMetrics);
    var stop = new CancellationTokenSource(TimeSpan.FromSeconds(o.Seconds));
    Task? fault = null;
    double faultAt = double.NaN;
    if (o.FaultCommand is not null)
        fault = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(o.FaultAt));
            faultAt = clock.Elapsed.TotalSeconds;
            using var process = Process.Start("bash", ["-c", o.FaultCommand])!;
            await process.WaitForExitAsync();
        });
    object? churn = null;
    var churnLeaveAt = double.NaN;
    if (o.Churn > 0)
        fault = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(o.FaultAt));
            faultAt = clock.Elapsed.TotalSeconds;
            var timings = new ConcurrentBag<(double Connect, double Join)>();
            var crowd = await ConnectAll(o, run + "c", RoomOf, o.Churn, timings);
            var (connectMs, joinMs) = (timings.Select(t => t.Connect).Order().ToArray(), timings.Select(t => t.Join).Order().ToArray());
            var joined = clock.Elapsed.TotalSeconds - faultAt;
            await Task.Delay(TimeSpan.FromSeconds(4));
            churnLeaveAt = clock.Elapsed.TotalSeconds;
            if (!o.ChurnByExpiry) await Task.WhenAll(crowd.Select((c, i) => c.LeaveAsync(RoomOf(i))));
            churn = new { clients = o.Churn, joinSeconds = Math.Round(joined, 2),
                          connectP50Ms = Percentile(connectMs, 0.5), connectP99Ms = Percentile(connectMs, 0.99),
                          registerAndJoinP50Ms = Percentile(joinMs, 0.5), registerAndJoinP99Ms = Percentile(joinMs, 0.99), leaveAtSeconds = Math.Round(churnLeaveAt - faultAt, 2),
                          leaveSeconds = Math.Round(clock.Elapsed.TotalSeconds - churnLeaveAt, 2), byExpiry = o.ChurnByExpiry };
            foreach (var c in crowd) await c.DisposeAsync();
        });

    var interval = TimeSpan.FromSeconds(1.0 / o.Rate);
    await Task.WhenAll(clients.Select(async (client, i) =>
    {
        await Task.Delay(Random.Shared.Next((int)interval.TotalMilliseconds));
        using var timer = new PeriodicTimer(interval);
        var counter = 0;
        do
        {
            if (client.Closed) return;
            var ticks = Stopwatch.GetTimestamp();
            sent.Add((RoomOf(i), ticks));
            try { await client.SayAsync(RoomOf(i), "benchmark message text", $"{i}-{++counter}-{ticks}"); }
            catch (Exception) { return; }
        } while (await timer.WaitForNextTickAsync(stop.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result));
    }));
    var sendSeconds = clock.Elapsed.TotalSeconds;
    if (fault is not null) await fault;

    // Drain: until every delivery arrived, or 45 s (longer than any backend outage short of the hold limit).
    long Refused() => clients.Select((c, i) => (long)c.RateLimited * roomSize[RoomOf(i)]).Sum();
    // Refusals still on their way (a client reads behind under overload) lower what is expected: counted each round,
    // or the drain waited out its 45 s for deliveries that were never due.
    var offered = sent.Sum(s => (long)roomSize[s.Room]);
    var drainDeadline = DateTime.UtcNow.AddSeconds(45);
    while (DateTime.UtcNow < drainDeadline && receivers.Sum(r => (long)r.Distinct) < offered - Refused()) await Task.Delay(500);
    var cpuAfter = ProcessStats.CpuSeconds(o.Pids);
    var allocatedAfter = o.BackendMetrics is null ? 0 : await ProcessStats.AllocatedBytes(o.BackendMetrics);
    var distinctLive = receivers.Sum(r => (long)r.Distinct);

    // After a crash a client may see a gap (docs/protocol.md): what `join` with `since` returns was not lost.
    // (Not after the warm-up: its catch-up of every client would be a burst just before the measured run.)
    if (o.Scenario != "warmup") await Task.WhenAll(clients.Select((c, i) => c.CatchUpAsync(RoomOf(i), 0, receivers[i].Recover)));
    var distinct = receivers.Sum(r => (long)r.Distinct);
    var expected = offered - Refused();
    var all = latencies.Select(l => l.Millis).Order().ToArray();
    object? stall = null;
    if (!double.IsNaN(faultAt))
    {
        var window = latencies.Where(l => l.SentAt >= faultAt - 1 && l.SentAt < faultAt + 15).Select(l => l.Millis).Order().ToArray();
        // Latency over time across the fault: the slowest message sent in each half second.
        var series = latencies.GroupBy(l => Math.Floor(l.SentAt * 2) / 2).OrderBy(g => g.Key)
            .Select(g => new[] { g.Key, Round(g.Max(l => l.Millis)) }).ToArray();
        stall = new { faultAtSeconds = Math.Round(faultAt, 1), maxMs = Round(window.LastOrDefault()), p99Ms = Percentile(window, 0.99), series };
    }
    var result = new
    {
        scenario = o.Scenario, system = o.System, clients = o.Clients, rooms = o.Rooms, ratePerClient = o.Rate, seconds = o.Seconds,
        sent = sent.Count,
        offeredDeliveriesPerSecond = Math.Round(offered / sendSeconds),
        // Kept up with: deliveries that arrived while the load was still being offered, per second.
        sustainedDeliveriesPerSecond = Math.Round(latencies.Count(l => l.SentAt + l.Millis / 1000 <= sendSeconds) / sendSeconds),
        deliveriesPerSecond = Math.Round(distinct / sendSeconds),
        p50Ms = Percentile(all, 0.50), p99Ms = Percentile(all, 0.99), maxMs = Round(all.LastOrDefault()),
        gapsFilledBySince = distinct - distinctLive,
        lost = expected - distinct,
        unavailable = clients.Sum(c => c.Unavailable),
        rateLimited = clients.Sum(c => c.RateLimited),
        duplicates = receivers.Sum(r => r.Duplicates),
        outOfOrder = receivers.Sum(r => r.OutOfOrder),
        closed = clients.Count(c => c.Closed),
        cpuSeconds = o.Pids.Zip(cpuAfter.Zip(cpuBefore, (a, b) => Math.Round(a - b, 1))).ToDictionary(p => p.First.ToString(), p => p.Second),
        // SocketStarter: what one post costs the backend (the last pid), CPU and bytes allocated, over the whole run.
        backendCpuUsPerPost = o.Pids.Length > 1 && sent.Count > 0 ? Math.Round((cpuAfter[^1] - cpuBefore[^1]) * 1e6 / sent.Count) : (double?)null,
        backendBytesPerPost = o.BackendMetrics is not null && sent.Count > 0 ? Math.Round((allocatedAfter - allocatedBefore) / (double)sent.Count) : (double?)null,
        stall,
        churn,
        // The posting clients' slowest message sent before the crowd came, while it was in the rooms, and from its leave on.
        churnLatency = o.Churn > 0 ? new
        {
            slowestBeforeMs = Slowest(latencies.Where(l => l.SentAt < faultAt)),
            slowestWithCrowdMs = Slowest(latencies.Where(l => l.SentAt >= faultAt && l.SentAt < churnLeaveAt)),
            slowestFromLeaveMs = Slowest(latencies.Where(l => l.SentAt >= churnLeaveAt)),
        } : null,
        // Where the tail comes from: per second of sending, the median and the slowest latency.
        latencyBySecond = latencies.GroupBy(l => Math.Floor(l.SentAt)).OrderBy(g => g.Key)
            .Select(g => { var s = g.Select(l => l.Millis).Order().ToArray(); return new[] { g.Key, Percentile(s, 0.5), Round(s[^1]) }; }).ToArray(),
    };
    foreach (var client in clients) await client.DisposeAsync();
    return result;
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : Round(sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))]);
static double Round(double value) => Math.Round(value, 1);
static double Slowest(IEnumerable<(double SentAt, double Millis)> latencies) => Round(latencies.Select(l => l.Millis).DefaultIfEmpty().Max());

/// <summary>What one client received: duplicates and order by the room's seq.</summary>
sealed class Receiver(ChatConnection connection, string room)
{
    private readonly HashSet<long> _seen = new();
    private long _max;
    public ChatConnection Connection { get; } = connection;
    public string Room { get; } = room;
    public int Duplicates { get; private set; }
    public int OutOfOrder { get; private set; }
    public int Distinct { get { lock (_seen) return _seen.Count; } }

    /// <summary>A message fetched with <c>join</c> + <c>since</c>: delivered, but not a live delivery to judge.</summary>
    public void Recover(long seq)
    {
        lock (_seen) _seen.Add(seq);
    }

    /// <summary>Records a live delivery; returns the first missing seq when it skipped some.</summary>
    public long? Record(long seq)
    {
        lock (_seen)
        {
            if (!_seen.Add(seq)) { Duplicates++; return null; }
            if (seq < _max) OutOfOrder++;
            var gapFrom = _max > 0 && seq > _max + 1 ? _max + 1 : (long?)null;
            _max = Math.Max(_max, seq);
            return gapFrom;
        }
    }
}

static class ProcessStats
{
    public static long Rss(IEnumerable<int> pids) => pids.Sum(pid =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024);

    /// <summary>User plus system CPU seconds of each process (clock ticks of 1/100 s).</summary>
    /// <summary>The backend's bytes allocated so far, from the runtime meter on its Prometheus endpoint.</summary>
    public static async Task<double> AllocatedBytes(Uri metrics)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(metrics);
        var line = text.Split('\n').First(l => l.StartsWith("dotnet_gc_heap_total_allocated_bytes"));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public static double[] CpuSeconds(IEnumerable<int> pids) => pids.Select(pid =>
    {
        if (!File.Exists($"/proc/{pid}/stat")) return 0;
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (double.Parse(fields[11]) + double.Parse(fields[12])) / 100;
    }).ToArray();
}

sealed record Options(string Mode, string System, Uri Url, int Clients, int Rooms, double Rate, int Seconds, int[] Pids, double FaultAt, string? FaultCommand,
    Uri? BackendMetrics, string Scenario, int HoldSeconds, int WarmupSeconds, int Churn, bool ChurnByExpiry)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string? fallback = null)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback ?? throw new ArgumentException($"{name} is required");
        }
        return new Options(args[0], Get("--system"), new Uri(Get("--url")), int.Parse(Get("--clients")), int.Parse(Get("--rooms", "10")),
            double.Parse(Get("--rate", "1")), int.Parse(Get("--seconds", "10")),
            Get("--pids", "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(),
            double.Parse(Get("--fault-at", "NaN")), Array.IndexOf(args, "--fault-cmd") >= 0 ? Get("--fault-cmd") : null,
            Array.IndexOf(args, "--backend-metrics") >= 0 ? new Uri(Get("--backend-metrics")) : null, Get("--scenario", args[0]),
            int.Parse(Get("--hold", "0")), int.Parse(Get("--warmup", "0")), int.Parse(Get("--churn", "0")),
            args.Contains("--churn-expire"));
    }
}
