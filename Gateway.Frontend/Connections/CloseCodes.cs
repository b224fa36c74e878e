using System.Net.WebSockets;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>The WebSocket close statuses the frontend sends, in one place.</summary>
public static class CloseCodes
{
    public const WebSocketCloseStatus Normal = WebSocketCloseStatus.NormalClosure;
    /// <summary>1009: a frame over the size limit.</summary>
    public const WebSocketCloseStatus TooBig = WebSocketCloseStatus.MessageTooBig;
    /// <summary>1012 (service restart): this frontend is draining; resume the session on another.</summary>
    public const WebSocketCloseStatus ResumeElsewhere = (WebSocketCloseStatus)1012;
    /// <summary>1013 (try again later): the client reads too slowly for its outbound queue.</summary>
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;
    /// <summary>1008: the client kept sending over its rate limit after being told <c>rate_limited</c>.</summary>
    public const WebSocketCloseStatus PolicyViolation = WebSocketCloseStatus.PolicyViolation;
    /// <summary>4001: another connection resumed this session with its token (one live connection per session).</summary>
    public const WebSocketCloseStatus TakenOver = (WebSocketCloseStatus)4001;
}
