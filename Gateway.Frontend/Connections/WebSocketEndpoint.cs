using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.AspNetCore.Http.Features;
using SocketStarter.Gateway.Frontend.Authentication;
using SocketStarter.Shared.Hosting;
using SocketStarter.Shared.Hosting.Management;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// <c>GET /ws</c> (or another path, one per application): accepts the WebSocket, starts its
/// <see cref="ConnectionActor"/> for that application, and reads the socket in its own loop. Frames go into a bounded, backpressured stream: while the actor holds its limit of frames, the
/// loop waits, the socket is not read and TCP pushes back on the client.
/// </summary>
public static class WebSocketEndpoint
{
    /// <param name="identity">The application's frame that claims an identity: with authentication on, it needs a token.</param>
    public static IEndpointRouteBuilder MapGatewayWebSocket(this IEndpointRouteBuilder endpoints, string path, string application,
        IdentityClaim? identity = null)
    {
        // Not async itself: every connection's frame is Serve's alone (an idle connection holds one state machine).
        endpoints.Map(path, (HttpContext context, ActorSystem system, ActorRegistry registry, IMaterializer materializer,
            FrontendSettings settings, Operations.FrontendReadiness readiness, ManagementSettings management, OriginPolicy origins,
            AddressLimit addresses, ClientAuthentication authentication, StandingQueue standingQueue, IHostApplicationLifetime lifetime) =>
        {
            // Clients connect on the public port only; the management port is for operators.
            if (management.Received(context)) return Refuse(context, StatusCodes.Status404NotFound, null);
            // A page on another site would act with the visitor's network position (and cookies, if any).
            if (!origins.Allows(context.Request))
                return Refuse(context, StatusCodes.Status403Forbidden, "This origin may not open a WebSocket here (ALLOWED_ORIGINS).");
            // Draining, or not (or no longer) a member: a session here could not reach its backend. Refused before the
            // upgrade, so that a load balancer can send the request to another frontend.
            if (readiness.NotAccepting() is { } reason)
                return Refuse(context, StatusCodes.Status503ServiceUnavailable, $"This frontend is not serving now ({reason}); connect to another one.");
            if (!context.WebSockets.IsWebSocketRequest)
                return Refuse(context, StatusCodes.Status400BadRequest, "This endpoint speaks WebSocket only.");
            if (!addresses.TryTake(context.Connection.RemoteIpAddress))
                return Refuse(context, StatusCodes.Status429TooManyRequests,
                    $"Too many connections from your address (at most {settings.MaxConnectionsPerAddress}).");
            return Serve(context, application, identity, system, registry, materializer, settings, authentication, standingQueue, addresses,
                lifetime.ApplicationStopping);
        });
        return endpoints;
    }

    private static Task Refuse(HttpContext context, int status, string? reason)
    {
        context.Response.StatusCode = status;
        return reason is null ? Task.CompletedTask : context.Response.WriteAsync(reason);
    }

    /// <param name="addresses">Holds a connection taken for the client's address, released here when it ends.</param>
    private static async Task Serve(HttpContext context, string application, IdentityClaim? identity, ActorSystem system, ActorRegistry registry,
        IMaterializer materializer, FrontendSettings settings, ClientAuthentication authentication, StandingQueue standingQueue,
        AddressLimit addresses, CancellationToken nodeStopping)
    {
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var socketClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var upgraded = (context.Features.Get<IHttpUpgradeFeature>() as CoalescingUpgradeFeature)?.Stream;
            var connection = system.ActorOf(ConnectionActor.Props(
                new WebSocketChannel(socket, upgraded), application, resumable: true, context.Request.Query["resume"].FirstOrDefault(),
                registry.Get<ShardRegions.SessionRegion>(), registry.Get<FanoutHostingExtensions.Fanout>(),
                settings, materializer, socketClosed, authentication, identity, standingQueue));

            var inbound = await connection.Ask<ISourceQueueWithComplete<object>>(ConnectionActor.GetInbound.Instance, TimeSpan.FromSeconds(10));

            // A stopping node has asked the client to resume elsewhere; a socket whose client does not answer the close
            // in time is aborted, which ends the read loop (the node's shutdown would wait on its request). A client that
            // vanishes ends the read loop by itself: Kestrel fails the socket's reads.
            using var onStopping = nodeStopping.Register(static state => _ = AbortAfterGrace((WebSocket)state!), socket);
            await ReadFrames(socket, inbound, connection);
            inbound.Complete();
            await socketClosed.Task;
        }
        finally
        {
            addresses.Release(context.Connection.RemoteIpAddress);
        }
    }

    private static async Task AbortAfterGrace(WebSocket socket)
    {
        await Task.Delay(CloseGrace);
        // A socket that closed meanwhile is already disposed: Abort then changes nothing (its state stays Closed and
        // its stream is not disposed again; tried on .NET 10's managed WebSocket).
        socket.Abort();
    }

    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(3);

    /// <summary>Most frames are small: a message is read into 4 KiB borrowed from the pool, a bigger buffer only for a big frame.</summary>
    private const int SmallFrameBytes = 4 * 1024;

    private static async Task ReadFrames(WebSocket socket, ISourceQueueWithComplete<object> inbound, IActorRef connection)
    {
        try
        {
            while (true)
            {
                // Wait for the next message with no buffer (a zero-byte read, as SignalR's transport does): an idle
                // connection holds none of its own.
                var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) return;
                var buffer = ArrayPool<byte>.Shared.Rent(SmallFrameBytes);
                try
                {
                    var length = 0;
                    while (!result.EndOfMessage)
                    {
                        if (length == Math.Min(buffer.Length, FrontendSettings.MaxFrameBytes + 1))
                        {
                            // One byte more than the limit tells an oversized frame from one exactly at the limit.
                            if (length > FrontendSettings.MaxFrameBytes)
                            {
                                connection.Tell(ConnectionActor.FrameTooBig.Instance);
                                return;
                            }
                            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, FrontendSettings.MaxFrameBytes + 1));
                            buffer.AsSpan(0, length).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                        }
                        var free = Math.Min(buffer.Length, FrontendSettings.MaxFrameBytes + 1) - length;
                        result = await socket.ReceiveAsync(buffer.AsMemory(length, free), CancellationToken.None);
                        if (result.MessageType == WebSocketMessageType.Close) return;
                        length += result.Count;
                    }
                    if (length > FrontendSettings.MaxFrameBytes)
                    {
                        connection.Tell(ConnectionActor.FrameTooBig.Instance);
                        return;
                    }

                    object frame = result.MessageType == WebSocketMessageType.Binary
                        ? ConnectionActor.BinaryFrame.Instance
                        : DecodeText(buffer.AsSpan(0, length));
                    if (await inbound.OfferAsync(frame) is not QueueOfferResult.Enqueued) return;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or StreamDetachedException)
        {
            // (StreamDetachedException: the node is stopping and the connection's stream is gone; its socket was
            // already asked to resume elsewhere.)
            // The client vanished without a close frame: the same as a close.
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static object DecodeText(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new ConnectionActor.TextFrame(StrictUtf8.GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            return ConnectionActor.BinaryFrame.Instance;
        }
    }
}
