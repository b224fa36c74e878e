using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace SocketStarter.EndToEnd;

/// <summary>The attacks of the edge issue, replayed from outside against real nodes: each must change nothing for others.</summary>
public sealed class EdgeTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private Uri Uri => fixture.Cluster.WebSocketUri;

    private static string Unique(string prefix) => $"{prefix}{Random.Shared.Next(100_000, 999_999)}";

    private Task<ChatClient> InRoomAsync(string name, string room) => ChatClient.InRoomAsync(Uri, name, room);

    private static async Task<string> ErrorCodeAsync(ChatClient client) =>
        (await client.ExpectAsync("error", Wait)).GetProperty("code").GetString()!;

    [Theory]
    [InlineData("""{"type":"\ud800"}""")]
    [InlineData("""{"type":"say","room":"ROOM","text":"a\udc00b"}""")]
    [InlineData("""{"type":"join","room":"\ud83d"}""")]
    [InlineData("""{"type":"register","name":"x\ud800"}""")]
    [InlineData("""{"type":"say","room":"ROOM","text":"ok","extra":{"\udfff":1}}""")]
    public async Task A_lone_surrogate_is_a_bad_frame_and_the_connection_and_session_go_on(string frameTemplate)
    {
        var (room, name) = (Unique("room"), Unique("sur"));
        await using var client = await InRoomAsync(name, room);
        await using var other = await InRoomAsync(Unique("other"), room);

        await client.SendTextAsync(frameTemplate.Replace("ROOM", room));
        Assert.Equal("bad_frame", await ErrorCodeAsync(client));

        // The connection, the session, its name and its room are all still there.
        await client.SendAsync(new { type = "say", room, text = "still here" });
        var message = await other.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "still here");
        Assert.Equal(name, message.GetProperty("from").GetString());
        Assert.Equal(name, (await client.ExpectAsync("message", Wait)).GetProperty("from").GetString());
    }

    [Fact]
    public async Task A_resume_with_a_wrong_secret_changes_nothing_for_the_owner()
    {
        var room = Unique("room");
        await using var victim = await InRoomAsync(Unique("victim"), room);
        await using var talker = await InRoomAsync(Unique("talker"), room);

        var forged = $"{victim.SessionId}.{new string('0', 32)}";
        await using var attacker = await ChatClient.ConnectAsync(Uri, resume: forged);
        Assert.False(attacker.Welcome.GetProperty("resumed").GetBoolean());
        Assert.NotEqual(victim.SessionId, attacker.SessionId);

        await talker.SendAsync(new { type = "say", room, text = "for the victim" });
        await victim.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "for the victim");
        await victim.SendAsync(new { type = "say", room, text = "victim speaks" });
        await talker.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "victim speaks");
        Assert.DoesNotContain(attacker.Drain(), frame => frame.GetProperty("type").GetString() == "message");
    }

    [Fact]
    public async Task A_second_resume_with_the_same_token_closes_the_first_connection()
    {
        var room = Unique("room");
        await using var first = await InRoomAsync(Unique("twice"), room);
        await using var talker = await InRoomAsync(Unique("talker"), room);

        await using var second = await ChatClient.ConnectAsync(Uri, resume: first.ResumeToken);
        Assert.True(second.Welcome.GetProperty("resumed").GetBoolean());
        Assert.Equal((WebSocketCloseStatus)4001, await first.WaitClosedAsync(Wait));

        // The session lives on in the second connection only.
        await talker.SendAsync(new { type = "say", room, text = "to the second" });
        await second.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "to the second");
        await second.SendAsync(new { type = "say", room, text = "from the second" });
        await talker.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "from the second");
    }

    [Fact]
    public async Task Resume_tokens_never_reach_the_logs()
    {
        await using var client = await InRoomAsync(Unique("logged"), Unique("room"));
        var secret = client.ResumeToken.Split('.')[1];
        await client.DisposeAsync();
        await using var resumed = await ChatClient.ConnectAsync(Uri, resume: client.ResumeToken);
        Assert.True(resumed.Welcome.GetProperty("resumed").GetBoolean());
        foreach (var node in fixture.Cluster.Nodes) Assert.DoesNotContain(secret, node.Output);
    }

    private async Task<IMqttClient> MqttAsync(string clientId, string name,
        MqttClientConnectResultCode expected = MqttClientConnectResultCode.Success)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", fixture.Cluster.FrontendMqttPorts[0])
            .WithClientId(clientId).WithCredentials(name).WithCleanSession().WithTimeout(TimeSpan.FromSeconds(30)).Build());
        Assert.Equal(expected, result.ResultCode);
        return client;
    }

    private static async Task<Channel<JsonElement>> SubscribedAsync(IMqttClient client, string room)
    {
        var received = Channel.CreateUnbounded<JsonElement>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Writer.TryWrite(JsonDocument.Parse(e.ApplicationMessage.ConvertPayloadToString()).RootElement.Clone());
            return Task.CompletedTask;
        };
        await client.SubscribeAsync($"rooms/{room}", MqttQualityOfServiceLevel.AtLeastOnce);
        return received;
    }

    [Fact]
    public async Task No_mqtt_client_can_name_itself_the_bridge_nor_forge_or_retain_a_message()
    {
        var room = Unique("room");
        using var impostor = await MqttAsync("socketstarter-bridge", Unique("forger"), MqttClientConnectResultCode.ClientIdentifierNotValid);

        var forger = Unique("forger");
        using var client = await MqttAsync(Unique("id"), forger);
        var forged = """{"room":"ROOM","seq":1,"from":"admin","text":"forged"}""".Replace("ROOM", room);
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"rooms/{room}").WithPayload(forged)
            .WithRetainFlag().WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        // A later subscriber gets nothing retained, and the room holds the text as the forger's own message.
        using var later = await MqttAsync(Unique("id"), Unique("later"));
        var received = await SubscribedAsync(later, room);
        await using var web = await InRoomAsync(Unique("web"), room);
        await web.SendAsync(new { type = "say", room, text = "after" });
        using var timeout = new CancellationTokenSource(Wait);
        var first = await received.Reader.ReadAsync(timeout.Token);
        Assert.Equal("after", first.GetProperty("text").GetString());
        await web.SendAsync(new { type = "join", room, since = 0 });
        var history = (await web.ExpectAsync("joined", Wait)).GetProperty("history").EnumerateArray().ToList();
        Assert.DoesNotContain(history, m => m.GetProperty("from").GetString() == "admin");
        Assert.Contains(history, m => m.GetProperty("from").GetString() == forger && m.GetProperty("text").GetString() == forged);
    }

    [Fact]
    public async Task An_oversized_mqtt_publish_closes_that_client_and_the_frontend_stays_small()
    {
        var room = Unique("room");
        var frontend = fixture.Cluster.Nodes.First(node => node.Name.StartsWith("frontend"));
        var before = frontend.ResidentBytes();
        using var client = await MqttAsync(Unique("id"), Unique("big"));
        var disconnected = new TaskCompletionSource();
        client.DisconnectedAsync += _ => { disconnected.TrySetResult(); return Task.CompletedTask; };
        try
        {
            await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"rooms/{room}")
                .WithPayload(new byte[64 * 1024 * 1024]).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException)
        {
            // The frontend closed the connection instead of acknowledging (MQTTnet cancels the send it was in).
        }
        await disconnected.Task.WaitAsync(Wait);

        // Nothing reached the room, other clients chat on, and the frontend did not keep the payload around.
        await using var web = await InRoomAsync(Unique("web"), room);
        await web.SendAsync(new { type = "say", room, text = "fine" });
        var message = await web.ExpectAsync("message", Wait);
        Assert.Equal(1, message.GetProperty("seq").GetInt64());
        var grown = frontend.ResidentBytes() - before;
        Assert.True(grown < 256L * 1024 * 1024, $"the frontend grew by {grown / 1024 / 1024} MB after one refused 64 MB publish");
    }

    [Fact]
    public async Task Mosquitto_pub_without_a_client_id_is_assigned_one_and_its_message_posted()
    {
        var (room, poster) = (Unique("room"), Unique("poster"));
        await using var web = await InRoomAsync(Unique("web"), room);
        var (exitCode, output) = await TestCluster.RunAsync("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", fixture.Cluster.FrontendMqttPorts[0].ToString(), "-t", $"rooms/{room}", "-u", poster, "-q", "1", "-m", "no id"]);
        Assert.True(exitCode == 0, output);
        var message = await web.ExpectAsync("message", Wait, m => m.GetProperty("text").GetString() == "no id");
        Assert.Equal(poster, message.GetProperty("from").GetString());
    }

    [Fact]
    public async Task Management_commands_need_the_token_and_are_not_taken_from_web_pages_or_other_host_names()
    {
        var node = fixture.Cluster.Nodes[0];
        var token = (await File.ReadAllTextAsync(node.ManagementTokenFile)).Trim();
        using var http = new HttpClient();
        async Task<System.Net.HttpStatusCode> Post(Action<HttpRequestMessage> shape)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{node.ManagementEndpoint}/cmd") { Content = new StringContent("frontend drain") };
            shape(request);
            return (await http.SendAsync(request)).StatusCode;
        }

        // What a web page can send (no-cors fetch, a form), with or without a guessed token: refused, nothing drained.
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await Post(_ => { }));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await Post(r => r.Headers.Authorization = new("Bearer", new string('0', 64))));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, await Post(r =>
        {
            r.Headers.Authorization = new("Bearer", token);
            r.Headers.Add("Origin", "null");
        }));
        // DNS rebinding: the page's own host name pointed at 127.0.0.1.
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, await Post(r =>
        {
            r.Headers.Authorization = new("Bearer", token);
            r.Headers.Host = $"attacker.example:{node.ManagementPort}";
        }));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"http://{node.ManagementEndpoint}/healthz/ready")).StatusCode);
        await using var stillServed = await ChatClient.ConnectAsync(Uri);

        // The token file is the operator's alone, and with it the command runs.
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(node.ManagementTokenFile));
        var (exitCode, text) = await TestCluster.SsctlAsync(node, "cluster status");
        Assert.True(exitCode == 0, text);
    }

    [Theory]
    [InlineData("https://attacker.example")]
    [InlineData("null")]
    [InlineData("http://127.0.0.1.attacker.example:8080")]
    public async Task A_page_of_another_site_cannot_open_a_websocket(string origin)
    {
        var error = await Assert.ThrowsAsync<WebSocketException>(() => ChatClient.ConnectAsync(Uri, origin: origin));
        Assert.Contains("403", error.Message);
    }

    [Fact]
    public async Task The_frontends_own_pages_and_local_development_pages_can()
    {
        await using var own = await ChatClient.ConnectAsync(Uri, origin: $"http://{Uri.Authority}");
        await using var vite = await ChatClient.ConnectAsync(Uri, origin: "http://localhost:5173");
        Assert.NotEqual(own.SessionId, vite.SessionId);
    }

    [Fact]
    public async Task WebSockets_are_served_on_the_public_port_only()
    {
        var node = fixture.Cluster.Nodes[0];
        var error = await Assert.ThrowsAsync<WebSocketException>(() => ChatClient.ConnectAsync(new Uri($"ws://{node.ManagementEndpoint}/ws")));
        Assert.Contains("404", error.Message);
    }

    [Fact]
    public async Task The_mqtt_listener_binds_only_the_configured_address()
    {
        var (_, sockets) = await TestCluster.RunAsync("ss", ["-Hltn", $"sport = :{fixture.Cluster.FrontendMqttPorts[0]}"]);
        var local = sockets.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).ToList();
        Assert.Equal([$"127.0.0.1:{fixture.Cluster.FrontendMqttPorts[0]}"], local);
    }
}
