using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// TraceReport <trace.nettrace> [top] [from to]
// Reads a trace taken with `dotnet-trace collect --profile gc-verbose` (allocations) or `--profile
// dotnet-sampled-thread-time` (stacks), and prints where the process allocates (by type and by the first
// frame of our code or a library that asked for it) and where its threads run managed code.
// from/to (UTC times of day, e.g. 14:54:36.9 14:54:38.4, as the nodes' logs print them) keep only the events
// between them: the seconds of a stall that the log places, not the whole trace.
var path = args[0];
var top = args.Length > 1 ? int.Parse(args[1]) : 25;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(path));
var (from, to) = args.Length > 3 ? (At(args[2]), At(args[3])) : (DateTime.MinValue, DateTime.MaxValue);
DateTime At(string timeOfDay) => log.SessionStartTime.ToUniversalTime().Date + TimeSpan.Parse(timeOfDay);

var byType = new Dictionary<string, double>();
var byCaller = new Dictionary<string, double>();
var cpuSelf = new Dictionary<string, int>();
var cpuIncl = new Dictionary<string, int>();
double allocated = 0;
var samples = 0;

foreach (var data in log.Events)
{
    var at = data.TimeStamp.ToUniversalTime();
    if (at < from || at > to) continue;
    if (data is GCAllocationTickTraceData tick)
    {
        allocated += tick.AllocationAmount64;
        Add(byType, tick.TypeName ?? "?", tick.AllocationAmount64);
        Add(byCaller, Caller(data.CallStack()), tick.AllocationAmount64);
    }
    else if (data.ProviderName == "Microsoft-DotNETCore-SampleProfiler" && data.CallStack() is { } stack
             && (int)data.PayloadByName("Type") == 2) // 2: the thread was running managed code
    {
        samples++;
        var first = true;
        var seen = new HashSet<string>();
        for (var frame = stack; frame is not null; frame = frame.Caller)
        {
            var name = Name(frame);
            if (first) { cpuSelf[name] = cpuSelf.GetValueOrDefault(name) + 1; first = false; }
            if (seen.Add(name)) cpuIncl[name] = cpuIncl.GetValueOrDefault(name) + 1;
        }
    }
}

if (allocated > 0)
{
    Console.WriteLine($"Allocated (sampled every ~100 KB): {allocated / 1048576:F0} MB over {log.SessionDuration.TotalSeconds:F1} s");
    Print("by type", byType, allocated);
    Print("by first caller outside the runtime", byCaller, allocated);
}
if (samples > 0)
{
    Console.WriteLine($"Managed-code samples: {samples}");
    Print("self", cpuSelf.ToDictionary(p => p.Key, p => (double)p.Value), samples);
    Print("inclusive", cpuIncl.ToDictionary(p => p.Key, p => (double)p.Value), samples);
}

void Print(string title, Dictionary<string, double> counts, double total)
{
    Console.WriteLine($"-- {title}");
    foreach (var (name, value) in counts.OrderByDescending(p => p.Value).Take(top))
        Console.WriteLine($"{100 * value / total,6:F1}%  {name}");
}

static void Add(Dictionary<string, double> counts, string key, double value) => counts[key] = counts.GetValueOrDefault(key) + value;

static string Name(TraceCallStack frame) =>
    $"{frame.CodeAddress.ModuleName}!{frame.CodeAddress.FullMethodName}";

/// <summary>The first frame that is not the runtime's own (collections, strings, tasks, JSON) asked for the memory.</summary>
static string Caller(TraceCallStack? stack)
{
    for (var frame = stack; frame is not null; frame = frame.Caller)
    {
        var module = frame.CodeAddress.ModuleName;
        if (module is "System.Private.CoreLib" or "System.Collections" or "System.Linq" or "System.Text.Json" or "System.Memory"
            or "System.Collections.Concurrent" or "coreclr" or "System.Runtime" or "" or null)
            continue;
        return Name(frame);
    }
    return "?";
}
