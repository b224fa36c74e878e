using System.Security.Cryptography;
using System.Text;

namespace SocketStarter.Messages.ClientProtocol;

/// <summary>
/// Resume tokens are <c>&lt;session id&gt;.&lt;secret&gt;</c>: 128 random bits of secret, of which the session
/// entity keeps only a hash. Any frontend can route a resume by the session id without a shared key.
/// </summary>
public static class ResumeToken
{
    public static (string Token, string SecretHash) Create(string sessionId)
    {
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        return ($"{sessionId}.{secret}", Hash(secret));
    }

    public static bool TryParse(string? token, out string sessionId, out string secret)
    {
        sessionId = secret = "";
        var dot = token?.IndexOf('.') ?? -1;
        if (token is null || dot < 1 || dot == token.Length - 1 || token.Length > 200) return false;
        sessionId = token[..dot];
        secret = token[(dot + 1)..];
        return true;
    }

    public static bool Verify(string secret, string secretHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(secretHash));

    public static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Session ids are random and never reused, across the cluster and across restarts.</summary>
    public static string NewSessionId() => Guid.NewGuid().ToString("N");
}
