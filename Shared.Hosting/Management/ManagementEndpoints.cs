using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;

using SocketStarter.Shared.Hosting;
using SocketStarter.Shared.Hosting.Membership;

namespace SocketStarter.Shared.Hosting.Management;

/// <summary>Where a node's management endpoint listens: loopback unless configured otherwise.</summary>
public sealed record ManagementSettings(string Host, int Port)
{
    public const int DefaultPort = 9110;

    /// <summary>MANAGEMENT_HOST and MANAGEMENT_PORT; port 0 picks a free port now, so it can be printed and matched.</summary>
    public static ManagementSettings FromConfiguration(IConfiguration configuration, int defaultPort)
    {
        var read = new SettingsReader(configuration);
        var host = read.Text("MANAGEMENT_HOST", "127.0.0.1");
        var port = read.Int("MANAGEMENT_PORT", defaultPort, min: 0, max: 65535);
        return new ManagementSettings(host, port == 0 ? FreePort(host) : port);
    }

    public string Url => $"http://{Host}:{Port}";

    /// <summary>Whether the request came in on the management port (the node's other port is the public one).</summary>
    public bool Received(HttpContext context) => context.Connection.LocalPort == Port;

    private static int FreePort(string host)
    {
        using var listener = new TcpListener(IPAddress.TryParse(host, out var ip) ? ip : IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public static class ManagementEndpoints
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public static IServiceCollection AddManagement(this IServiceCollection services, ManagementSettings settings, IConfiguration configuration)
    {
        services.AddSingleton(settings);
        services.AddSingleton(new ManagementAccess(settings, ManagementToken.ForNode(configuration)));
        services.AddSingleton<ManagementExecutor>();
        services.AddHealthChecks();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(SocketStarterMetrics.MeterName)
            // The runtime's own meter: CPU time, GC pauses and bytes allocated (the benchmark reads them per post).
            .AddMeter("System.Runtime")
            // Kestrel's: connections open and queued, TLS handshakes, upgraded (WebSocket) connections, rejections.
            .AddMeter("Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>
    /// <c>POST /cmd</c> (management commands: see <see cref="ManagementAccess"/> for who may send them), <c>/healthz/live</c>,
    /// <c>/healthz/ready</c> and <c>/metrics</c> (Prometheus text).
    /// </summary>
    public static IEndpointRouteBuilder MapManagement(this IEndpointRouteBuilder endpoints)
    {
        var access = endpoints.ServiceProvider.GetRequiredService<ManagementAccess>();
        endpoints.MapPost("/cmd", RunCommand).AddEndpointFilter(async (context, next) =>
            access.Refusal(context.HttpContext) ?? await next(context));
        endpoints.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag), ResponseWriter = WriteEachCheck });
        endpoints.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteEachCheck });
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        // Cluster Bootstrap's contact point (AKKA_BOOTSTRAP_CONTACT_POINTS), on the management port only: it lists
        // the members' addresses.
        var settings = endpoints.ServiceProvider.GetRequiredService<ManagementSettings>();
        endpoints.MapGet("/bootstrap/seed-nodes", (HttpContext context, ActorSystem system) =>
            !settings.Received(context) ? Results.NotFound()
            : ClusterBootstrapping.SeedNodesJson(system) is { } json ? Results.Text(json, "application/json")
            : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        return endpoints;
    }

    /// <summary>
    /// The overall status on the first line (what probes read), then one line per check with its status and how long
    /// it took, so an operator sees which check holds a node back. Names and statuses only: these paths are public.
    /// </summary>
    private static Task WriteEachCheck(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var lines = report.Entries.Select(entry => $"{entry.Key}: {entry.Value.Status} ({entry.Value.Duration.TotalMilliseconds:F0} ms)");
        return context.Response.WriteAsync(string.Join('\n', [report.Status.ToString(), .. lines]) + "\n");
    }

    private static async Task RunCommand(HttpContext context, ManagementExecutor executor)
    {
        var line = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        context.Response.ContentType = "text/plain; charset=utf-8";
        ManagementCommand command;
        try
        {
            command = ManagementCommand.Parse(line);
        }
        catch (CommandException e)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(e.Message + "\n");
            return;
        }

        if (command is ManagementCommand.ClusterTail)
        {
            await executor.TailAsync(async text =>
            {
                await context.Response.WriteAsync(text + "\n");
                await context.Response.Body.FlushAsync();
            }, context.RequestAborted);
            return;
        }

        try
        {
            await context.Response.WriteAsync(await executor.RunAsync(command, context.RequestAborted) + "\n");
        }
        catch (CommandException e)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(e.Message + "\n");
        }
        catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TimeoutException or TaskCanceledException)
        {
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            await context.Response.WriteAsync($"No answer in time: {e.Message}\n");
        }
    }
}
