using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Xunit.Abstractions;

namespace SocketStarter.EndToEnd;

/// <summary>MQTT clients (Debian's mosquitto clients and MQTTnet's) on the same rooms as WebSocket clients.</summary>
public sealed class MqttTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static Task<(int ExitCode, string Output)> Mosquitto(string tool, params string[] args) => TestCluster.RunAsync(tool, args);

    private static async Task<IMqttClient> ConnectAsync(TestCluster cluster, string name, MqttProtocolVersion version = MqttProtocolVersion.V311)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", cluster.FrontendMqttPorts[0])
            .WithClientId($"{name}-client")
            .WithCredentials(name)
            .WithProtocolVersion(version)
            .WithCleanSession()
            // Acknowledgements wait for the backend, up to the frontend's hold limit of 30 s.
            .WithTimeout(TimeSpan.FromSeconds(60))
            .Build();
        await client.ConnectAsync(options);
        return client;
    }

    [Fact]
    public async Task Mosquitto_and_browser_users_chat_together()
    {
        await using var cluster = await TestCluster.StartAsync();
        var port = cluster.FrontendMqttPorts[0].ToString();
        await using var web = await ChatClient.ConnectAsync(cluster.WebSocketUri);
        await web.SendAsync(new { type = "register", name = "webuser" });
        await web.ExpectAsync("registered", Wait);
        await web.SendAsync(new { type = "join", room = "mixed" });
        await web.ExpectAsync("joined", Wait);

        // mosquitto_sub: joined once SUBACK arrives; it then receives the browser's message.
        var subscriber = Mosquitto("mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-i", "subscriber-1", "-u", "mqttuser",
            "-t", "rooms/mixed", "-q", "1", "-C", "2", "-W", "20");
        await web.ExpectAsync("presence", Wait, p => p.GetProperty("joined").GetString() == "mqttuser");
        await web.SendAsync(new { type = "say", room = "mixed", text = "hello mqtt", id = "w-1" });

        // mosquitto_pub: a message published to the room reaches the browser.
        var published = await Mosquitto("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", "publisher-1", "-u", "poster",
            "-t", "rooms/mixed", "-q", "1", "-m", "hello browser");
        Assert.Equal(0, published.ExitCode);
        var atBrowser = await web.ExpectAsync("message", Wait, m => m.GetProperty("from").GetString() == "poster");
        Assert.Equal("hello browser", atBrowser.GetProperty("text").GetString());

        var (exitCode, received) = await subscriber;
        Assert.Equal(0, exitCode);
        var lines = received.Split('\n');
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.False(first.TryGetProperty("type", out _));
        Assert.Equal("webuser", first.GetProperty("from").GetString());
        Assert.Equal("hello mqtt", first.GetProperty("text").GetString());
        Assert.Equal("w-1", first.GetProperty("id").GetString());
        Assert.Equal(1, first.GetProperty("seq").GetInt64());
        Assert.Equal("hello browser", JsonDocument.Parse(lines[1]).RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Taken_names_and_topics_outside_rooms_are_refused()
    {
        await using var cluster = await TestCluster.StartAsync();
        var port = cluster.FrontendMqttPorts[0].ToString();
        await using var web = await ChatClient.ConnectAsync(cluster.WebSocketUri);
        await web.SendAsync(new { type = "register", name = "holder" });
        await web.ExpectAsync("registered", Wait);

        var taken = await Mosquitto("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", "taker", "-u", "holder", "-t", "rooms/a", "-m", "x");
        Assert.NotEqual(0, taken.ExitCode);
        Assert.Contains("identifier rejected", taken.Output);
        var invalid = await Mosquitto("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", "spaced", "-u", "no spaces", "-t", "rooms/a", "-m", "x");
        Assert.Contains("identifier rejected", invalid.Output);
        var fine = await Mosquitto("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-i", "fine", "-u", "fine", "-t", "rooms/a", "-q", "1", "-m", "x");
        Assert.Equal(0, fine.ExitCode);

        var client = await ConnectAsync(cluster, "wildcard");
        async Task<MqttClientSubscribeResultCode> Subscribe(string topic) =>
            (await client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce)).Items.Single().ResultCode;
        Assert.Equal(MqttClientSubscribeResultCode.UnspecifiedError, await Subscribe("rooms/#"));
        Assert.Equal(MqttClientSubscribeResultCode.UnspecifiedError, await Subscribe("news/today"));
        Assert.Equal(MqttClientSubscribeResultCode.UnspecifiedError, await Subscribe("rooms/Not A Room"));
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await Subscribe("rooms/fine"));
        await client.DisconnectAsync();
    }

    /// <summary>CONNACK, SUBACK and PUBACK all wait for the backend; the delays across a restart go to docs/mqtt.md.</summary>
    [Fact]
    public async Task Acknowledgements_held_across_a_backend_restart_arrive_only_after_a_backend_is_back_and_the_message_is_delivered_once()
    {
        await using var cluster = await TestCluster.StartAsync();
        var received = new ConcurrentQueue<JsonElement>();
        var listener = await ConnectAsync(cluster, "listener");
        listener.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue(JsonDocument.Parse(Encoding.UTF8.GetString(e.ApplicationMessage.Payload)).RootElement.Clone());
            return Task.CompletedTask;
        };
        await listener.SubscribeAsync("rooms/restart", MqttQualityOfServiceLevel.AtLeastOnce);
        var publisher = await ConnectAsync(cluster, "publisher");
        await publisher.SubscribeAsync("rooms/restart", MqttQualityOfServiceLevel.AtLeastOnce);

        var backend = cluster.Nodes[1];
        backend.Terminate();
        Assert.True(await backend.WaitForExitAsync(Wait));
        var clock = Stopwatch.StartNew();
        async Task<TimeSpan> Timed(Task acknowledged)
        {
            await acknowledged;
            return clock.Elapsed;
        }
        var puback = Timed(publisher.PublishStringAsync("rooms/restart", "through the restart", MqttQualityOfServiceLevel.AtLeastOnce));
        var suback = Timed(listener.SubscribeAsync("rooms/other", MqttQualityOfServiceLevel.AtLeastOnce));
        var connack = Timed(ConnectAsync(cluster, "latecomer"));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(puback.IsCompleted || suback.IsCompleted || connack.IsCompleted, "acknowledgements must wait for a backend");

        var restartedAt = clock.Elapsed;
        cluster.StartBackend();
        foreach (var (name, acknowledged) in new[] { ("PUBACK", puback), ("SUBACK", suback), ("CONNACK", connack) })
        {
            var at = await acknowledged;
            Assert.True(at > restartedAt, $"{name} before a backend was back");
            output.WriteLine($"{name} {at.TotalMilliseconds:F0} ms after it was asked for; {(at - restartedAt).TotalMilliseconds:F0} ms after the new backend process started");
        }

        var deadline = DateTime.UtcNow + Wait;
        while (received.Count < 1 && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Task.Delay(1000);
        var message = Assert.Single(received);
        Assert.Equal("through the restart", message.GetProperty("text").GetString());
        Assert.Equal("publisher", message.GetProperty("from").GetString());
        await listener.DisconnectAsync();
        await publisher.DisconnectAsync();
    }
}
