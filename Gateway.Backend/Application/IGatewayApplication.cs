namespace SocketStarter.Gateway.Backend.Application;

/// <summary>
/// A real-time application on the gateway. The gateway keeps the connections, sessions, topics and acknowledgements;
/// the application says what each client frame does, as <see cref="Step"/>s the session entity runs in order.
/// <see cref="Decide"/> runs inside the session entity, once per client frame that has not been applied yet: it must
/// not block or keep state of its own between calls (what must last goes into the application's own persistent
/// entities, reached with <see cref="Step.Ask"/>). A frame is acknowledged to the frontend only after every step it
/// led to is done (persisted where it persists); a session entity that stops halfway (a crash, a hand-off) gets the
/// same frame again and decides it afresh, so every step must be idempotent: the gateway's own are, and the
/// application's entities must answer a repeated operation (same <c>OpId</c>, or same
/// <see cref="SessionView.EnvelopeKey"/>) as they answered it the first time.
/// </summary>
public interface IGatewayApplication
{
    /// <summary>What the client's <paramref name="frame"/> (a JSON object with a string <c>type</c>) does.</summary>
    Step Decide(SessionView session, string frame);

    /// <summary>The session ended for good (its resume window passed, or its client ended it) and has left its topics:
    /// what the application holds for it is released here.</summary>
    Step Ended(SessionView session);

    /// <summary>How the application's topics look to clients.</summary>
    ITopicFrames Frames { get; }
}

/// <summary>What the gateway knows of a session when the application decides a frame.</summary>
/// <param name="Presence">How the session is shown to the other subscribers of its topics (<see cref="Step.SetPresence"/>).</param>
/// <param name="Topics">The topics the session is subscribed to.</param>
/// <param name="EnvelopeKey">The same for every delivery of this client frame, different for every other frame:
/// the key by which the application's own entities recognise a repeat.</param>
public sealed record SessionView(string SessionId, string? Presence, IReadOnlyCollection<string> Topics, string EnvelopeKey);

/// <summary>Thrown by an application while deciding a frame: the client gets an <c>error</c> frame with this code.</summary>
public sealed class ClientError(string code, string message, string? reference = null) : Exception(message)
{
    public string Code { get; } = code;
    public string? Reference { get; } = reference;
}
