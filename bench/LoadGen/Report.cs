using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocketStarter.Bench.LoadGen;

/// <summary>Turns one run's figures into bench/results/&lt;date&gt;.json and docs/benchmarks.md with SVG charts.</summary>
public static class Report
{
    private static readonly string[] Systems = ["socketstarter", "raw", "signalr"];
    private static readonly Dictionary<string, string> Colors = new() { ["socketstarter"] = "#4f46e5", ["raw"] = "#059669", ["signalr"] = "#d97706" };

    private static List<JsonObject> Read(string resultsJsonl) =>
        File.ReadLines(resultsJsonl).Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    /// <summary>Each target with the figures and ratios it is judged on, one line each.</summary>
    public static IEnumerable<string> TargetLines(string resultsJsonl) => Targets(Read(resultsJsonl)).Select(line => line.Replace("**", ""));

    public static void Write(string resultsJsonl, string jsonOut, string markdownOut)
    {
        var rows = Read(resultsJsonl);
        var machine = new JsonObject
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["cores"] = Environment.ProcessorCount,
            ["memoryGiB"] = Math.Round(long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1048576.0, 1),
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["note"] = "load generator, servers and (for SocketStarter) frontend and backend share the same cores",
        };
        File.WriteAllText(jsonOut, new JsonObject { ["machine"] = machine, ["results"] = new JsonArray(rows.Select(r => (JsonNode)r.DeepClone()).ToArray()) }
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var docs = Path.GetDirectoryName(Path.GetFullPath(markdownOut))!;
        File.WriteAllText(Path.Combine(docs, "benchmarks-throughput.svg"), ThroughputChart(rows));
        File.WriteAllText(Path.Combine(docs, "benchmarks-restart.svg"), RestartChart(rows));

        var md = new StringBuilder();
        md.AppendLine("# Benchmarks").AppendLine();
        md.AppendLine($"Latest run: {machine["date"]}, {machine["cores"]} cores, {machine["memoryGiB"]} GiB, {machine["os"]}, .NET {machine["dotnet"]}; ")
          .AppendLine($"{machine["note"]}. Produced by `bench/run.sh`; raw figures in `{jsonOut}`.").AppendLine();
        md.AppendLine("Systems: **socketstarter** (1 frontend + 1 backend process, SQLite journal: every message is persisted before it is delivered), ")
          .AppendLine("**raw** (one Kestrel process, the same protocol, no actors, no persistence), **signalr** (one ASP.NET Core SignalR hub, rooms as groups).").AppendLine();

        md.AppendLine("Where the time and the memory go, profiled: [profile.md](profile.md).").AppendLine();
        md.AppendLine("## Targets").AppendLine();
        foreach (var line in Targets(rows)) md.AppendLine($"- {line}");
        md.AppendLine();

        md.AppendLine("## Idle connections").AppendLine();
        md.AppendLine("| system | connections | closed | connect time (s) | RSS before (MiB) | RSS after (MiB) | bytes per connection |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in rows.Where(r => (string?)r["scenario"] == "idle"))
            md.AppendLine($"| {r["system"]} | {r["connections"]} | {r["closed"]} | {r["connectSeconds"]} | {r["rssBeforeMiB"]} | {r["rssAfterMiB"]} | {r["bytesPerConnection"]} |");
        md.AppendLine().AppendLine("(SocketStarter: the frontend process, which holds the sockets.)").AppendLine();

        md.AppendLine("## Chat throughput and latency").AppendLine();
        md.AppendLine("Clients spread over 10 rooms; every client receives every message of its room, its own included.").AppendLine();
        md.AppendLine("Deliveries/s counts every delivery, including those that arrived after the load stopped (the run drains); kept up with counts only those that arrived while the load ran.").AppendLine();
        md.AppendLine("Cold: the first 20 s after the cluster is ready, with no warm-up. Backend µs and bytes per post: the backend process's CPU time and bytes allocated over the run, per message posted.").AppendLine();
        md.AppendLine("| system | clients × msg/s | offered deliveries/s | deliveries/s | kept up with/s | p50 ms | p99 ms | max ms | lost | unavailable | rate limited | duplicates | out of order | closed | server CPU s | backend µs/post | backend B/post |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in Chats(rows).Concat(Colds(rows)))
            md.AppendLine($"| {r["system"]}{((string?)r["scenario"] == "cold" ? " (cold)" : "")} | {r["clients"]} × {r["ratePerClient"]} | {r["offeredDeliveriesPerSecond"]} | {r["deliveriesPerSecond"]} | {r["sustainedDeliveriesPerSecond"]} | {r["p50Ms"]} | {r["p99Ms"]} | {r["maxMs"]} | {r["lost"]} | {r["unavailable"]} | {r["rateLimited"]} | {r["duplicates"]} | {r["outOfOrder"]} | {r["closed"]} | {string.Join(" + ", r["cpuSeconds"]!.AsObject().Select(p => p.Value))} | {r["backendCpuUsPerPost"]} | {r["backendBytesPerPost"]} |");
        md.AppendLine().AppendLine("![deliveries/s against offered load](benchmarks-throughput.svg)").AppendLine();

        var storms = rows.Where(r => (string?)r["scenario"] == "churn").ToList();
        if (storms.Count > 0)
        {
            md.AppendLine("## Membership storms").AppendLine();
            md.AppendLine("200 clients × 5 msg/s in 10 rooms for 20 s; at 5 s a crowd of more clients connect, register and join the rooms (64 at a time), and 4 s after the last has joined they all leave at once. Slowest: the posting clients' slowest message sent before the crowd came, while it was in the rooms, and from its leave on.").AppendLine();
            md.AppendLine("| system | crowd | joined in (s) | register + join p50 / p99 ms | leaves took (s) | slowest before ms | slowest with the crowd ms | slowest from the leave ms | p99 ms | lost | duplicates | out of order | closed |");
            md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var r in storms.OrderBy(r => Array.IndexOf(Systems, (string?)r["system"])))
                md.AppendLine($"| {r["system"]} | {r["churn"]?["clients"]} | {r["churn"]?["joinSeconds"]} | {r["churn"]?["registerAndJoinP50Ms"]} / {r["churn"]?["registerAndJoinP99Ms"]} | {r["churn"]?["leaveSeconds"]} | {r["churnLatency"]?["slowestBeforeMs"]} | {r["churnLatency"]?["slowestWithCrowdMs"]} | {r["churnLatency"]?["slowestFromLeaveMs"]} | {r["p99Ms"]} | {r["lost"]} | {r["duplicates"]} | {r["outOfOrder"]} | {r["closed"]} |");
            md.AppendLine();
        }

        md.AppendLine("## Restart stall").AppendLine();
        md.AppendLine("200 clients × 2 msg/s, 10 rooms; the fault at 5 s; the window is the messages sent from 1 s before the fault to 15 s after it. The rolling deploy restarts 3 backends one after another in one cluster, one run per restart, the one holding the shard coordinators (the oldest) last, as docs/deploy.md says.").AppendLine();
        md.AppendLine("| fault | backends | closed | lost | gaps filled by since | duplicates | out of order | max ms | p99 ms |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in rows.Where(r => (string?)r["scenario"] == "stall"))
            md.AppendLine($"| {(string?)r["fault"] switch { "graceful" => "graceful restart (SIGTERM)", "rolling" => $"rolling deploy: backend {r["step"]} of 3 restarted (SIGTERM){((bool?)r["coordinators"] == true ? ", the one holding the shard coordinators" : "")}", _ => "SIGKILL, then restart" }} | {r["backends"]} | {r["closed"]} | {r["lost"]} | {r["gapsFilledBySince"]} | {r["duplicates"]} | {r["outOfOrder"]} | {r["stall"]?["maxMs"]} | {r["stall"]?["p99Ms"]} |");
        md.AppendLine().AppendLine("![latency over time across a restart](benchmarks-restart.svg)");
        File.WriteAllText(markdownOut, md.ToString());
    }

    private static IEnumerable<JsonObject> Chats(List<JsonObject> rows) =>
        rows.Where(r => (string?)r["scenario"] == "chat").OrderBy(r => Array.IndexOf(Systems, (string?)r["system"])).ThenBy(r => (double)r["offeredDeliveriesPerSecond"]!);

    private static IEnumerable<JsonObject> Colds(List<JsonObject> rows) => rows.Where(r => (string?)r["scenario"] == "cold");

    private const double KneeP99Ms = 500;

    private static IEnumerable<string> Targets(List<JsonObject> rows)
    {
        // The knee: the most deliveries/s a system kept up with, every delivery made, p99 under half a second.
        double Knee(string system) => Chats(rows).Where(r => (string?)r["system"] == system && (double)r["p99Ms"]! <= KneeP99Ms && (long)r["lost"]! == 0)
            .Select(r => (double)r["deliveriesPerSecond"]!).DefaultIfEmpty(0).Max();
        double? P99At200(string system) => Chats(rows).Where(r => (string?)r["system"] == system && (int)r["clients"]! == 200).Select(r => (double?)r["p99Ms"]).FirstOrDefault();
        double? Idle(string system) => rows.Where(r => (string?)r["scenario"] == "idle" && (string?)r["system"] == system).Select(r => (double?)r["bytesPerConnection"]).FirstOrDefault();
        double? Stall(string fault, int backends) => rows.Where(r => (string?)r["scenario"] == "stall" && (string?)r["fault"] == fault && (int)r["backends"]! == backends)
            .Select(r => (double?)r["stall"]?["maxMs"]).FirstOrDefault();
        string Met(bool met) => met ? "**met**" : "**not met**";

        string Ratio(double? ours, double? theirs) => ours is { } o && theirs is { } t && t > 0 ? $"{o / t:F2}x" : "n/a";

        var (ours, raw, signalr) = (Knee("socketstarter"), Knee("raw"), Knee("signalr"));
        var signalrMeasured = Chats(rows).Any(r => (string?)r["system"] == "signalr");
        // A knee needs a range of loads to be found in; the quick run measures two.
        var kneeMeasured = Chats(rows).Count(r => (string?)r["system"] == "raw") >= 3;
        if (kneeMeasured)
            yield return $"Knee (highest load kept up with at p99 ≤ {KneeP99Ms} ms) ≥ 75% of raw's{(signalrMeasured ? " and above SignalR's" : "")}: socketstarter {ours:F0}, raw {raw:F0}, ratio {Ratio(ours, raw)}"
            + (signalrMeasured ? $", signalr {signalr:F0}" : "") + $": {Met(ours >= 0.75 * raw && (!signalrMeasured || ours > signalr))}";
        var (p99Ours, p99Raw) = (P99At200("socketstarter"), P99At200("raw"));
        yield return $"p99 at 200 × 5 after warm-up ≤ 2x raw's: socketstarter {p99Ours} ms, raw {p99Raw} ms, ratio {Ratio(p99Ours, p99Raw)}: {Met(p99Ours <= 2 * p99Raw)}";
        var cold = Colds(rows).FirstOrDefault(r => (string?)r["system"] == "socketstarter");
        if (cold is not null)
            yield return $"p99 at 200 × 5 from a cold start (first 20 s) ≤ 100 ms: {cold["p99Ms"]} ms: {Met((double)cold["p99Ms"]! <= 100)}";
        var (idleOurs, idleRaw) = (Idle("socketstarter"), Idle("raw"));
        yield return $"Frontend RSS per idle connection ≤ 1.3x raw's: socketstarter {idleOurs} B, raw {idleRaw} B, ratio {Ratio(idleOurs, idleRaw)}: {Met(idleOurs <= 1.3 * idleRaw)}";
        var overload = Chats(rows).Where(r => (string?)r["system"] == "socketstarter").MaxBy(r => (double)r["offeredDeliveriesPerSecond"]!);
        if (overload is not null)
            yield return $"Overload ({overload["clients"]} × {overload["ratePerClient"]}, offered {overload["offeredDeliveriesPerSecond"]}/s{(kneeMeasured ? $", {Ratio((double)overload["offeredDeliveriesPerSecond"]!, ours)} the knee" : "")}): p99 {overload["p99Ms"]} ms ≤ 1 s, "
                + $"{overload["lost"]} lost, {overload["duplicates"]} duplicates, {overload["outOfOrder"]} out of order: "
                + Met((double)overload["p99Ms"]! <= 1000 && (long)overload["lost"]! == 0 && (long)overload["duplicates"]! == 0 && (long)overload["outOfOrder"]! == 0);
        var perPost = Chats(rows).FirstOrDefault(r => (string?)r["system"] == "socketstarter" && (int)r["clients"]! == 200);
        if (perPost?["backendCpuUsPerPost"] is not null)
        {
            var (cpu, bytes) = ((double)perPost["backendCpuUsPerPost"]!, (double?)perPost["backendBytesPerPost"]);
            yield return $"Backend per post at 200 × 5 ≤ 100 µs CPU and ≤ 8 KB allocated: {cpu} µs, {bytes} B: {Met(cpu <= 100 && bytes <= 8192)}";
        }
        var (stall2, stall1) = (Stall("graceful", 2), Stall("graceful", 1));
        yield return $"Graceful restart stall ≤ 1 s with 2 backends: {stall2} ms: {Met(stall2 <= 1000)}"
            + (stall1 is null ? "" : $"; ≤ 2.5 s with 1 backend: {stall1} ms: {Met(stall1 <= 2500)}");
        var kills = new[] { 1, 2 }.Select(backends => (Backends: backends, MaxMs: Stall("kill", backends))).Where(k => k.MaxMs is not null).ToList();
        if (kills.Count > 0)
            yield return $"SIGKILL and restart on the same address ≤ 5 s: {string.Join(", ", kills.Select(k => $"{k.MaxMs} ms with {k.Backends} backend(s)"))}: "
                + Met(kills.All(k => k.MaxMs <= 5000));
        var rolling = rows.Where(r => (string?)r["scenario"] == "stall" && (string?)r["fault"] == "rolling").Select(r => (double?)r["stall"]?["maxMs"]).ToList();
        if (rolling.Count > 0)
            yield return $"Rolling deploy of 3 backends ≤ 1 s per restart: {string.Join(", ", rolling.Select(ms => $"{ms} ms"))}: {Met(rolling.All(ms => ms <= 1000))}";
        var lost = rows.Where(r => (string?)r["system"] == "socketstarter" && r["lost"] is not null).Sum(r => (long)r["lost"]!);
        yield return $"0 lost everywhere (socketstarter, all scenarios): {lost} lost: {Met(lost == 0)}";
    }

    private static string ThroughputChart(List<JsonObject> rows)
    {
        var chats = Chats(rows).ToList();
        var maxX = chats.Select(r => (double)r["offeredDeliveriesPerSecond"]!).DefaultIfEmpty(1).Max();
        var maxY = Math.Max(maxX, chats.Select(r => (double?)r["sustainedDeliveriesPerSecond"] ?? 0).DefaultIfEmpty(1).Max());
        return Chart("deliveries/s kept up with (arrived while the load ran) against offered", "offered deliveries/s", "deliveries/s", maxX, maxY,
            Systems.Select(system => (system, chats.Where(r => (string?)r["system"] == system)
                .Select(r => ((double)r["offeredDeliveriesPerSecond"]!, (double?)r["sustainedDeliveriesPerSecond"] ?? 0)).ToList())));
    }

    private static string RestartChart(List<JsonObject> rows)
    {
        var series = rows.Where(r => (string?)r["scenario"] == "stall" && r["stall"]?["series"] is not null)
            .Select(r => ($"{r["fault"]}, {r["backends"]} backend(s)", r["stall"]!["series"]!.AsArray().Select(p => ((double)p![0]!, (double)p[1]!)).ToList()))
            .ToList();
        var maxX = series.SelectMany(s => s.Item2).Select(p => p.Item1).DefaultIfEmpty(1).Max();
        var maxY = series.SelectMany(s => s.Item2).Select(p => p.Item2).DefaultIfEmpty(1).Max();
        return Chart("slowest message per half second, across the fault at 5 s", "seconds since the load started", "latency (ms)", maxX, maxY, series);
    }

    private static string Chart(string title, string xLabel, string yLabel, double maxX, double maxY, IEnumerable<(string Name, List<(double X, double Y)> Points)> series)
    {
        const int width = 720, height = 400, left = 70, right = 180, top = 40, bottom = 50;
        double X(double x) => left + x / maxX * (width - left - right);
        double Y(double y) => height - bottom - y / maxY * (height - top - bottom);
        string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        var svg = new StringBuilder();
        svg.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/><text x=\"{left}\" y=\"22\" font-size=\"14\">{title}</text>");
        for (var i = 0; i <= 4; i++)
        {
            svg.AppendLine($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{F(Y(maxY * i / 4))}\" y2=\"{F(Y(maxY * i / 4))}\" stroke=\"#e5e7eb\"/>");
            svg.AppendLine($"<text x=\"{left - 8}\" y=\"{F(Y(maxY * i / 4) + 4)}\" text-anchor=\"end\">{maxY * i / 4:F0}</text>");
            svg.AppendLine($"<text x=\"{F(X(maxX * i / 4))}\" y=\"{height - bottom + 18}\" text-anchor=\"middle\">{maxX * i / 4:F0}</text>");
        }
        svg.AppendLine($"<text x=\"{(left + width - right) / 2}\" y=\"{height - 10}\" text-anchor=\"middle\">{xLabel}</text>");
        svg.AppendLine($"<text x=\"16\" y=\"{height / 2}\" transform=\"rotate(-90 16 {height / 2})\" text-anchor=\"middle\">{yLabel}</text>");
        var palette = new[] { "#4f46e5", "#059669", "#d97706", "#dc2626", "#0891b2", "#7c3aed" };
        var index = 0;
        foreach (var (name, points) in series)
        {
            var color = Colors.GetValueOrDefault(name, palette[index % palette.Length]);
            if (points.Count > 0)
                svg.AppendLine($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', points.Select(p => $"{F(X(p.X))},{F(Y(p.Y))}"))}\"/>");
            foreach (var p in points.Count <= 12 ? points : []) svg.AppendLine($"<circle cx=\"{F(X(p.X))}\" cy=\"{F(Y(p.Y))}\" r=\"3\" fill=\"{color}\"/>");
            svg.AppendLine($"<rect x=\"{width - right + 15}\" y=\"{top + index * 20}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{width - right + 32}\" y=\"{top + index * 20 + 11}\">{name}</text>");
            index++;
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
