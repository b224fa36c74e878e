using Akka.Actor;

namespace SocketStarter.Messages;

/// <summary>
/// What a frontend connection sends to its session entity: one ordered, numbered stream per connection,
/// retried until acknowledged, so the session applies each step once and in order.
/// </summary>
public static class SessionCommands
{
    public interface ISessionEnvelope : IWithSessionId, IWireMessage
    {
        string ConnectionId { get; }
        long SeqNo { get; }
        /// <summary>The frontend fan-out that carries this connection: acknowledgements and frames go there.</summary>
        IActorRef Frontend { get; }
    }

    /// <summary>
    /// Attaches a connection of <paramref name="Application"/> (the one its endpoint serves). With
    /// <paramref name="NewTokenHash"/> it starts a fresh session; with <paramref name="ResumeSecret"/> it resumes an
    /// existing one of the same application, answered by Acknowledged or ResumeRefused.
    /// </summary>
    public sealed record Attach(
        string SessionId, string ConnectionId, long SeqNo, IActorRef Frontend,
        string? NewTokenHash, string? ResumeSecret, string Application) : ISessionEnvelope;

    /// <summary>One text frame of the client, as it came (a JSON object with a string <c>type</c>).</summary>
    public sealed record ClientFrame(
        string SessionId, string ConnectionId, long SeqNo, IActorRef Frontend, string Payload) : ISessionEnvelope;

    /// <summary>
    /// The client's connection is gone; the session waits for a resume until its window ends, or, with
    /// <paramref name="EndSession"/> (an MQTT clean session), ends at once.
    /// </summary>
    public sealed record Detach(
        string SessionId, string ConnectionId, long SeqNo, IActorRef Frontend, bool EndSession = false) : ISessionEnvelope;
}
