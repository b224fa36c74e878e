using SocketStarter.Shared.Hosting;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SocketStarter.Gateway.Frontend.Authentication;

/// <summary>
/// Optional proof of identity, as Centrifugo does it: with <c>AUTH_HS256_SECRET</c> or <c>AUTH_JWKS</c> (a JWKS file
/// or https URL) set, an identity (a user name, say) is claimed only with a JWT whose <c>sub</c> is that identity
/// (WebSocket: <c>token</c> in the application's <see cref="IdentityClaim"/> frame; MQTT: the password), signed by that key, unexpired, and with <c>AUTH_ISSUER</c> and
/// <c>AUTH_AUDIENCE</c> when those are set. Checked at the frontend; backends trust their frontends. Off when neither
/// key is set (the demo).
/// </summary>
public sealed class ClientAuthentication
{
    private readonly TokenValidationParameters? _parameters;
    private readonly JsonWebTokenHandler _handler = new();

    private ClientAuthentication(TokenValidationParameters? parameters) => _parameters = parameters;

    public static readonly ClientAuthentication Off = new(null);

    public bool Enabled => _parameters is not null;

    public static async Task<ClientAuthentication> FromConfigurationAsync(IConfiguration configuration, CancellationToken cancellation = default)
    {
        var secret = configuration["AUTH_HS256_SECRET"];
        var jwks = configuration["AUTH_JWKS"];
        if (string.IsNullOrEmpty(secret) && string.IsNullOrEmpty(jwks)) return Off;
        if (!string.IsNullOrEmpty(secret) && !string.IsNullOrEmpty(jwks))
            throw new SettingException("Set AUTH_HS256_SECRET or AUTH_JWKS, not both.");

        IEnumerable<SecurityKey> keys;
        if (!string.IsNullOrEmpty(secret))
        {
            // HS256 needs a 256-bit key: a shorter secret can be guessed offline from any one token.
            if (Encoding.UTF8.GetByteCount(secret) < 32) throw new SettingException("AUTH_HS256_SECRET must be at least 32 bytes.");
            keys = [new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret))];
        }
        else
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var json = Uri.TryCreate(jwks, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
                ? await http.GetStringAsync(uri, cancellation)
                : await File.ReadAllTextAsync(jwks!, cancellation);
            keys = new JsonWebKeySet(json).GetSigningKeys();
            if (!keys.Any()) throw new SettingException($"AUTH_JWKS ({jwks}) holds no signing key.");
        }

        var issuer = configuration["AUTH_ISSUER"];
        var audience = configuration["AUTH_AUDIENCE"];
        return new ClientAuthentication(new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidateIssuerSigningKey = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            ValidateIssuer = !string.IsNullOrEmpty(issuer),
            ValidIssuer = issuer,
            ValidateAudience = !string.IsNullOrEmpty(audience),
            ValidAudience = audience,
        });
    }

    /// <summary>Null when <paramref name="token"/> proves <paramref name="identity"/>; else why not, for the client.</summary>
    public string? Refusal(string identity, string? token)
    {
        if (_parameters is null) return null;
        if (string.IsNullOrEmpty(token)) return "This service needs a token (a JWT whose subject is who you say you are) for this.";
        // Keys are in memory: validation completes without waiting on anything.
        var result = _handler.ValidateTokenAsync(token, _parameters).GetAwaiter().GetResult();
        if (!result.IsValid) return "The token is not valid (signature, expiry, issuer or audience).";
        return ((JsonWebToken)result.SecurityToken).Subject == identity ? null : "The token was issued for someone else.";
    }
}
