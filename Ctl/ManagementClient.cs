using System.Net.Sockets;
using System.Text;
using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Ctl;

/// <summary>Sends one command line to a node's management endpoint and writes what it answers.</summary>
public sealed class ManagementClient(string endpoint, HttpClient http, string? token)
{
    public string Endpoint { get; } = endpoint;

    /// <summary>Exit codes: 0 done, 1 the node refused or failed the command, 2 the node could not be reached.</summary>
    public async Task<int> RunAsync(string line, TextWriter output, CancellationToken cancellation)
    {
        try
        {
            // Checked here first, so a typo is answered without a round trip, in the same words as the node's.
            ManagementCommand.Parse(line);
        }
        catch (CommandException e)
        {
            await output.WriteLineAsync(e.Message);
            return 1;
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{Endpoint}/cmd") { Content = new StringContent(line, Encoding.UTF8, "text/plain") };
            if (token is not null) request.Headers.Authorization = new("Bearer", token);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
            while (await reader.ReadLineAsync(cancellation) is { } text) await output.WriteLineAsync(text);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return 0; // Ctrl-C ends a tail.
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException)
        {
            await output.WriteLineAsync($"Cannot reach {Endpoint}: {e.GetBaseException().Message}. Is a SocketStarter node's management endpoint there?");
            return 2;
        }
    }
}
