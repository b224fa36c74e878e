using System.Net.WebSockets;
using MQTTnet;

namespace SocketStarter.EndToEnd;

/// <summary>The edge's limits, each pushed past from outside against real nodes: the flooder is refused, nobody else is.</summary>
public sealed class EdgeLimitTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_flooding_client_is_told_rate_limited_then_closed_and_others_chat_on()
    {
        await using var cluster = await TestCluster.StartAsync(environment: new() { ["FRAMES_PER_SECOND"] = "5", ["FRAME_BURST"] = "10" });
        await using var flooder = await ChatClient.InRoomAsync(cluster.WebSocketUri, "flooder", "lobby");
        await using var calm = await ChatClient.InRoomAsync(cluster.WebSocketUri, "calm", "lobby");

        for (var i = 0; i < 40 && !flooder.Closed; i++)
            await flooder.SendAsync(new { type = "say", room = "lobby", text = $"flood {i}" });
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await flooder.WaitClosedAsync(Wait));
        Assert.Contains(flooder.Drain(), f => f.GetProperty("type").GetString() == "error" && f.GetProperty("code").GetString() == "rate_limited");

        // What was let through was posted, the refused frames were not, and the others chat on.
        await calm.SendAsync(new { type = "say", room = "lobby", text = "still fine" });
        var seen = new List<string>();
        while (await calm.ExpectAsync("message", Wait) is var message && message.GetProperty("text").GetString() is var seenText && seenText != "still fine")
            seen.Add(seenText!);
        Assert.InRange(seen.Count, 1, 12);
        Assert.Equal(Enumerable.Range(0, seen.Count).Select(i => $"flood {i}"), seen);
    }

    [Fact]
    public async Task One_address_gets_only_its_share_of_connections_over_websocket_and_mqtt_together()
    {
        await using var cluster = await TestCluster.StartAsync(environment: new() { ["MAX_CONNECTIONS_PER_ADDRESS"] = "3" });
        // The cluster's readiness probe has closed its connection; the slot it held must be free again.
        await using var first = await ChatClient.ConnectAsync(cluster.WebSocketUri);
        await using var second = await ChatClient.ConnectAsync(cluster.WebSocketUri);
        using var mqtt = new MqttClientFactory().CreateMqttClient();
        var connected = await mqtt.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", cluster.FrontendMqttPorts[0])
            .WithClientId("third").WithCredentials("third").WithCleanSession().Build());
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => ChatClient.ConnectAsync(cluster.WebSocketUri));
        Assert.Contains("429", refused.Message);

        // A slot given back is taken again.
        await second.DisposeAsync();
        await Task.Delay(500);
        await using var again = await ChatClient.ConnectAsync(cluster.WebSocketUri);
        await again.SendAsync(new { type = "register", name = "again" });
        await again.ExpectAsync("registered", Wait);
    }

    [Fact]
    public async Task A_catch_up_too_big_for_one_frame_arrives_whole_and_in_order()
    {
        await using var cluster = await TestCluster.StartAsync(environment: new() { ["FRAMES_PER_SECOND"] = "100000", ["FRAME_BURST"] = "100000" });
        await using var writer = await ChatClient.InRoomAsync(cluster.WebSocketUri, "writer", "big");
        // 1,000 messages of 4,000 four-byte characters: 16 MB of history, past remoting's 16 MiB frame in one joined.
        var text = string.Concat(Enumerable.Repeat("\U0001F600", 4000));
        const int count = 1000;
        for (var i = 1; i <= count; i++)
        {
            await writer.SendAsync(new { type = "say", room = "big", text, id = $"m{i}" });
            // In windows of 50, as a well-behaved client does: far more waiting would be answered rate_limited.
            if (i % 50 == 0) await writer.ExpectAsync("message", Wait, m => m.GetProperty("seq").GetInt64() == i);
        }

        await using var reader = await ChatClient.ConnectAsync(cluster.WebSocketUri);
        await reader.SendAsync(new { type = "register", name = "reader" });
        await reader.ExpectAsync("registered", Wait);
        await reader.SendAsync(new { type = "join", room = "big", since = 0 });
        var joined = await reader.ExpectAsync("joined", Wait);
        var seqs = joined.GetProperty("history").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()).ToList();
        Assert.True(joined.GetProperty("more").GetBoolean());
        while (seqs.Count < count)
            seqs.Add((await reader.ExpectAsync("message", Wait)).GetProperty("seq").GetInt64());
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), seqs);
    }
}
