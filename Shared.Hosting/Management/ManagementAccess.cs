using System.Net;
using Microsoft.AspNetCore.Http;

namespace SocketStarter.Shared.Hosting.Management;

/// <summary>
/// Who may run a management command: a request to the management port, not from a web page (no <c>Origin</c>),
/// addressed to an IP address or localhost (a DNS name there is how DNS rebinding reaches a loopback port),
/// with the management bearer token. Probes and scrapers (<c>/healthz</c>, <c>/metrics</c>) need none of it.
/// </summary>
public sealed class ManagementAccess(ManagementSettings settings, string token)
{
    public IResult? Refusal(HttpContext context)
    {
        var request = context.Request;
        if (!settings.Received(context)) return Results.NotFound();
        if (request.Headers.Origin.Count > 0)
            return Results.Text("Management commands are not taken from web pages.\n", statusCode: StatusCodes.Status403Forbidden);
        if (request.Host.Port != settings.Port || !(request.Host.Host == "localhost" || IPAddress.TryParse(request.Host.Host, out _)))
            return Results.Text($"Host '{request.Host}' is not this management endpoint.\n", statusCode: StatusCodes.Status403Forbidden);
        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !ManagementToken.Matches(token, authorization["Bearer ".Length..].Trim()))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Text("A management token is required (MANAGEMENT_TOKEN, or the file data/management.token that ssctl reads).\n",
                statusCode: StatusCodes.Status401Unauthorized);
        }
        return null;
    }
}
