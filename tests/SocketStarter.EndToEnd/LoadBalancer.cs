using System.Diagnostics;

namespace SocketStarter.EndToEnd;

/// <summary>HAProxy with hosts/haproxy.cfg in front of two frontends, on a free port of 127.0.0.1; killed by PID at the end.</summary>
public sealed class LoadBalancer : IAsyncDisposable
{
    private readonly NodeProcess _process;

    public int Port { get; }
    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/ws");
    public string Output => _process.Output;

    private LoadBalancer(NodeProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public static async Task<LoadBalancer> StartAsync(string frontend1, string frontend2)
    {
        var port = TestCluster.FreePort();
        var info = new ProcessStartInfo("haproxy", ["-f", Path.Combine(TestCluster.RepoRoot, "hosts", "haproxy.cfg"), "-db"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["LISTEN"] = $"127.0.0.1:{port}";
        info.Environment["FRONTEND1"] = frontend1;
        info.Environment["FRONTEND2"] = frontend2;
        var balancer = new LoadBalancer(new NodeProcess("haproxy", Process.Start(info)!), port);
        // Serving once both frontends pass its health check.
        for (var i = 0; i < 60; i++)
        {
            try
            {
                await using var client = await ChatClient.ConnectAsync(balancer.WebSocketUri);
                return balancer;
            }
            catch (Exception) when (!balancer._process.HasExited)
            {
                await Task.Delay(500);
            }
        }
        await balancer.DisposeAsync();
        throw new InvalidOperationException($"HAProxy did not serve within 30 s:\n{balancer.Output}");
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }
}
