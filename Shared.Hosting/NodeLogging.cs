using Akka.Hosting;
using Microsoft.Extensions.Logging;

namespace SocketStarter.Shared.Hosting;

/// <summary>One log for the whole node: the host's <see cref="ILogger"/>, which Akka's own log goes through too.</summary>
public static class NodeLogging
{
    /// <summary>
    /// Node events at Information. ASP.NET Core's per-request lines only from Warning: they were four info lines per
    /// <c>ssctl</c> call and page load, ten per WebSocket, and would write the resume token (a query parameter).
    /// The hosting layer's request log not at all: it writes only per-request lines (errors come from Kestrel), and
    /// while it is on, every request carries an <c>Activity</c> and a log scope, 0.3 KB that a WebSocket holds for
    /// as long as it is open (gcdump of 10,000 idle connections).
    /// </summary>
    public static ILoggingBuilder AddNodeLogging(this ILoggingBuilder logging) =>
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

    /// <summary>Akka's log events (membership, sharding, persistence failures) go to the host's loggers at Info and above.</summary>
    public static AkkaConfigurationBuilder WithHostLogging(this AkkaConfigurationBuilder builder) =>
        builder.ConfigureLoggers(loggers =>
        {
            loggers.LogLevel = Akka.Event.LogLevel.InfoLevel;
            loggers.ClearLoggers();
            loggers.AddLoggerFactory();
        });
}
