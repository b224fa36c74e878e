using SocketStarter.Gateway.Frontend.Authentication;
using SocketStarter.Gateway.Frontend.Connections;

namespace SocketStarter.Samples.Chat.Frontend;

/// <summary>The chat on a frontend: the WebSocket path its clients connect to, and how they say who they are.</summary>
public static class ChatFrontend
{
    /// <summary>A chat client says who it is by registering a name: with authentication on, that frame passes only with
    /// a token for the name (docs/security.md).</summary>
    public static readonly IdentityClaim Identity = new("register", "name");

    public static IEndpointRouteBuilder MapChatWebSocket(this IEndpointRouteBuilder endpoints, string path) =>
        endpoints.MapGatewayWebSocket(path, ChatApplication.Name, Identity);
}
