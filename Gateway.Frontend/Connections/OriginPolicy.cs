using SocketStarter.Shared.Hosting;
namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// Which web pages may open <c>/ws</c>: the frontend's own origin always; by default also pages served from this
/// machine (<c>localhost</c>, <c>127.0.0.1</c>, <c>[::1]</c> on any port: the Vite dev server); otherwise exactly
/// the origins in <c>ALLOWED_ORIGINS</c> (comma-separated, e.g. <c>https://app.example.com</c>). A request without
/// an <c>Origin</c> is not from a browser and is let through: only browsers send one, and only they need this check.
/// </summary>
public sealed class OriginPolicy(IReadOnlySet<string>? allowed)
{
    public static OriginPolicy FromConfiguration(IConfiguration configuration) =>
        new(configuration["ALLOWED_ORIGINS"] is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(origin => Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                    ? uri.GetLeftPart(UriPartial.Authority)
                    : throw new SettingException($"ALLOWED_ORIGINS: '{origin}' is not an origin like https://app.example.com"))
                .ToHashSet(StringComparer.OrdinalIgnoreCase)
            : null);

    public bool Allows(HttpRequest request)
    {
        if (request.Headers.Origin.Count == 0) return true;
        if (!Uri.TryCreate(request.Headers.Origin.ToString(), UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https"))
            return false; // "null" (sandboxed frames, file: pages) and anything unparsable
        if (string.Equals(origin.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)) return true;
        return allowed?.Contains(origin.GetLeftPart(UriPartial.Authority)) ?? origin.IsLoopback;
    }
}
