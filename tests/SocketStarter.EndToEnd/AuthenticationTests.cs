using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MQTTnet;

namespace SocketStarter.EndToEnd;

/// <summary>docs/security.md's optional authentication: a name only with a JWT for it, on WebSocket and MQTT.</summary>
public sealed class AuthenticationTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string Secret = "a-test-secret-of-at-least-32-bytes-long";

    private static string Token(string subject, string secret = Secret, DateTime? expires = null) => new JsonWebTokenHandler().CreateToken(
        new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["sub"] = subject },
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });

    private static async Task<string> RegisterAsync(ChatClient client, object frame)
    {
        await client.SendAsync(frame);
        var answer = await client.NextAsync(Wait);
        return answer.GetProperty("type").GetString() == "error" ? answer.GetProperty("code").GetString()! : answer.GetProperty("type").GetString()!;
    }

    [Fact]
    public async Task With_a_key_configured_only_a_valid_token_for_the_name_registers_it()
    {
        await using var cluster = await TestCluster.StartAsync(environment: new() { ["AUTH_HS256_SECRET"] = Secret });
        await using var client = await ChatClient.ConnectAsync(cluster.WebSocketUri);

        Assert.Equal("unauthorized", await RegisterAsync(client, new { type = "register", name = "alice" }));
        Assert.Equal("unauthorized", await RegisterAsync(client, new { type = "register", name = "alice", token = Token("mallory") }));
        Assert.Equal("unauthorized", await RegisterAsync(client, new { type = "register", name = "alice", token = Token("alice", secret: "another-secret-of-at-least-32-bytes!!") }));
        Assert.Equal("unauthorized", await RegisterAsync(client, new { type = "register", name = "alice", token = Token("alice", expires: DateTime.UtcNow.AddMinutes(-5)) }));
        Assert.Equal("registered", await RegisterAsync(client, new { type = "register", name = "alice", token = Token("alice") }));

        // MQTT: the password is the token.
        async Task<MqttClientConnectResultCode> Mqtt(string name, string password)
        {
            using var mqtt = new MqttClientFactory().CreateMqttClient();
            return (await mqtt.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", cluster.FrontendMqttPorts[0])
                .WithClientId($"{name}-id").WithCredentials(name, password).WithCleanSession().Build())).ResultCode;
        }
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await Mqtt("bob", "any password"));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await Mqtt("bob", Token("alice")));
        Assert.Equal(MqttClientConnectResultCode.Success, await Mqtt("bob", Token("bob")));
    }
}
