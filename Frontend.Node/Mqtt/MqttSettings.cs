namespace SocketStarter.Frontend.Mqtt;

/// <summary>The MQTT listener: MQTT_HOST (default 127.0.0.1) and MQTT_PORT (default 1883; 0 turns MQTT off).</summary>
public sealed record MqttSettings(string Host, int Port)
{
    public static MqttSettings FromConfiguration(IConfiguration configuration) => new(
        configuration["MQTT_HOST"] is { Length: > 0 } host ? host : "127.0.0.1",
        configuration.GetValue("MQTT_PORT", 1883));

    public bool Enabled => Port > 0;
}
