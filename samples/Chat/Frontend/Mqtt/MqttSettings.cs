using System.Net;
using SocketStarter.Gateway.Frontend;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Samples.Chat.Mqtt;

/// <summary>The MQTT listener: MQTT_HOST (default 127.0.0.1, an IP address) and MQTT_PORT (default 1883; 0 turns MQTT off).</summary>
public sealed record MqttSettings(string Host, int Port)
{
    public static MqttSettings FromConfiguration(IConfiguration configuration)
    {
        var read = new SettingsReader(configuration);
        var host = read.Text("MQTT_HOST", "127.0.0.1");
        if (!IPAddress.TryParse(host, out _)) throw new SettingException($"MQTT_HOST must be an IP address to listen on, got '{host}'.");
        return new(host, read.Int("MQTT_PORT", 1883, min: 0, max: 65535));
    }

    public bool Enabled => Port > 0;
}
