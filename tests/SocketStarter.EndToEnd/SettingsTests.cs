namespace SocketStarter.EndToEnd;

/// <summary>A bad setting stops a node at once, naming the variable and what it accepts.</summary>
public sealed class SettingsTests
{
    [Theory]
    [InlineData("frontend", "MAX_HELD_FRAMES", "many", "MAX_HELD_FRAMES must be a whole number from 1 to")]
    [InlineData("frontend", "MQTT_HOST", "localhost.example", "MQTT_HOST must be an IP address")]
    [InlineData("frontend", "ALLOWED_ORIGINS", "chat.example.com", "ALLOWED_ORIGINS: 'chat.example.com' is not an origin")]
    [InlineData("backend", "RESUME_WINDOW_SECONDS", "-5", "RESUME_WINDOW_SECONDS must be a number from 1 to")]
    public async Task A_bad_value_stops_the_node_with_a_message_naming_it(string role, string variable, string value, string message)
    {
        await using var cluster = TestCluster.Create(new() { [variable] = value });
        var node = role == "frontend" ? cluster.StartFrontend() : cluster.StartBackend();
        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"{node.Name} kept running with {variable}={value}");
        Assert.Equal(2, node.ExitCode);
        Assert.Contains($"Cannot start: {message}", node.Output);
    }
}
