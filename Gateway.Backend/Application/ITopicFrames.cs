using SocketStarter.Messages;

namespace SocketStarter.Gateway.Backend.Application;

/// <summary>
/// The frames a topic sends, written by the application: the gateway decides when and to whom, the application how
/// they look. Each is written once per topic event, not once per subscriber.
/// </summary>
public interface ITopicFrames
{
    /// <summary>One published message, to every subscriber.</summary>
    string Message(string topic, TopicMessage message);

    /// <summary>The answer to a subscribe: who is there and the catch-up. With <paramref name="more"/> the catch-up did not
    /// fit one frame and the rest follows at once as <see cref="Message"/> frames.</summary>
    string Subscribed(string topic, IEnumerable<string> presences, IEnumerable<TopicMessage> history, bool more);

    /// <summary>The answer to an unsubscribe.</summary>
    string Unsubscribed(string topic);

    /// <summary>To the other subscribers: a session came (<paramref name="joined"/>) or went (<paramref name="left"/>).</summary>
    string Presence(string topic, string? joined, string? left);
}
