using Akka.Actor;
using SocketStarter.Messages;

namespace SocketStarter.Gateway.Backend.Application;

/// <summary>
/// What a client frame leads to, as data: the session entity runs the steps one after another and acknowledges the
/// frame when the last is done. Steps that wait for another entity are sent again until it answers.
/// </summary>
public abstract record Step
{
    /// <summary>Nothing to do: the frame is acknowledged.</summary>
    public static readonly Step None = new All([]);

    /// <summary>Runs <paramref name="steps"/> in order.</summary>
    public static Step Then(params Step[] steps) => new All(steps);

    /// <summary>Sends <paramref name="Frame"/> (JSON text) to this session's client.</summary>
    public sealed record Reply(string Frame) : Step;

    /// <summary>Sends this session's client an <c>error</c> frame.</summary>
    public sealed record Error(string Code, string Message, string? Ref) : Step;

    /// <summary>Subscribes the session to <paramref name="Topic"/> (persisted in the session, kept across resumes); the
    /// client gets the application's subscribed frame with what was published after <paramref name="Since"/>.</summary>
    public sealed record Subscribe(string Topic, long? Since) : Step;

    /// <summary>Unsubscribes the session from <paramref name="Topic"/>; the client gets the unsubscribed frame.</summary>
    public sealed record Unsubscribe(string Topic) : Step;

    /// <summary>
    /// Publishes <paramref name="Payload"/> (a JSON object) to every subscriber of <paramref name="Topic"/>, in order,
    /// with the topic's next <c>seq</c>. A repeat of this frame, or of <paramref name="DedupeId"/> from this session,
    /// is published once.
    /// </summary>
    public sealed record Publish(string Topic, string Payload, string? DedupeId) : Step;

    /// <summary>Shows the session as <paramref name="Presence"/> in every topic it is (or will be) subscribed to.</summary>
    public sealed record SetPresence(string Presence) : Step;

    /// <summary>
    /// Asks one of the application's own entities: <paramref name="Operation"/> builds the message for an operation id
    /// (the same id on every resend); the entity's <see cref="IEntityReply"/> decides, in <paramref name="Next"/>, what follows.
    /// </summary>
    public sealed record Ask(IActorRef Target, Func<long, IEntityOperation> Operation, Func<IEntityReply, Step> Next) : Step;

    /// <summary>Runs <paramref name="Steps"/> in order.</summary>
    public sealed record All(IReadOnlyList<Step> Steps) : Step;
}
