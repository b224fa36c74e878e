using System.Text.RegularExpressions;
using SocketStarter.Ctl;
using SocketStarter.Shared.Hosting.Management;

// ssctl [host:port] <command>   one command; ssctl [host:port]   interactive, like pbm.
var endpoint = $"127.0.0.1:{ManagementSettings.DefaultPort}";
var words = args.ToList();
if (words.Count > 0 && Regex.IsMatch(words[0], @"^[^\s:]+:\d+$"))
{
    endpoint = words[0];
    words.RemoveAt(0);
}
else if (words.Count > 0 && words[0].Contains(':'))
{
    Console.Error.WriteLine($"'{words[0]}' is not a host:port like 127.0.0.1:9110.");
    return 2;
}

using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
var client = new ManagementClient(endpoint, http, ManagementToken.ForClient());
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

if (words.Count > 0) return await client.RunAsync(string.Join(' ', words), Console.Out, stop.Token);

Console.WriteLine($"Connected to {endpoint}. Type 'help' for the commands, 'exit' to leave.");
while (true)
{
    Console.Write($"ssctl {endpoint}> ");
    var line = Console.ReadLine();
    if (line is null || line.Trim() is "exit" or "quit") return 0;
    if (line.Trim().Length == 0) continue;
    using var command = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
    await client.RunAsync(line, Console.Out, command.Token);
    if (stop.IsCancellationRequested) return 0;
}
