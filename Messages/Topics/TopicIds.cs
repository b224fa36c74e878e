namespace SocketStarter.Messages;

/// <summary>
/// A topic entity's id is its application's name and the application's own name for the topic, so that two
/// applications never share a topic; clients and applications see the topic's own name only.
/// </summary>
public static class TopicIds
{
    private const char Separator = '/';

    public static string Of(string application, string topic) => $"{application}{Separator}{topic}";

    public static (string Application, string Topic) Parse(string topicId)
    {
        var at = topicId.IndexOf(Separator);
        return at > 0
            ? (topicId[..at], topicId[(at + 1)..])
            : throw new ArgumentException($"'{topicId}' is not an application's topic id", nameof(topicId));
    }
}
