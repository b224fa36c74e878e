using Akka.Actor;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.SessionCommands;
using static SocketStarter.Messages.SessionEvents;

namespace SocketStarter.Gateway.Backend.Sessions;

/// <summary>
/// The rules of one session, without an actor: who may attach, which connection carries it, how it is shown and
/// which topics it is subscribed to. <c>Decide*</c> says what a command leads to; <see cref="Apply"/> applies a
/// persisted event. <see cref="SessionActor"/> runs the decisions; what a client frame does is the application's.
/// </summary>
public sealed class SessionState(SessionSettings settings)
{
    private readonly SortedSet<string> _topics = new(StringComparer.Ordinal);

    public string? TokenHash { get; private set; }
    /// <summary>The application the session belongs to, from its start: its frames go to that one only.</summary>
    public string? Application { get; private set; }
    public bool Ended { get; private set; }
    public string? Presence { get; private set; }
    public IReadOnlyCollection<string> Topics => _topics;
    public string? ConnectionId { get; private set; }
    /// <summary>The fan-out of the frontend node that carries (or last carried) the session.</summary>
    public IActorRef? Frontend { get; private set; }
    public DateTime? DetachedAt { get; private set; }

    /// <summary>Started and not ended: it has an owner who can attach and send.</summary>
    public bool Started => TokenHash is not null && !Ended;

    /// <summary>When a detached session ends unless it is resumed.</summary>
    public DateTime? ExpiresAt => Started && DetachedAt is { } at ? at + settings.ResumeWindow : null;

    public abstract record AttachDecision;

    /// <summary>No such session, or the wrong secret. <paramref name="HoldsNoSession"/>: the entity may stop.</summary>
    public sealed record AttachRefused(bool HoldsNoSession) : AttachDecision;

    /// <summary>
    /// Persist <paramref name="Events"/>; then close <paramref name="TakenOver"/> (the connection that had the session,
    /// one live connection per session) and, with <paramref name="RebindTopics"/>, point the topics at the new frontend.
    /// </summary>
    public sealed record AttachAccepted(
        IReadOnlyList<ISessionEvent> Events, FrontendCommands.TakenOver? TakenOver, IActorRef? TakenOverFrontend, bool RebindTopics)
        : AttachDecision;

    public AttachDecision DecideAttach(Attach attach)
    {
        if (attach.NewTokenHash is { } tokenHash)
            // A repeated start (the frontend retried it after a restart of this entity) attaches again.
            return Accept(attach, TokenHash is null ? new SessionEvents.Started(tokenHash, attach.Application) : null);
        // A token resumes a session through its own application's endpoint only.
        if (!Started || attach.ResumeSecret is null || attach.Application != Application || !ResumeToken.Verify(attach.ResumeSecret, TokenHash!))
            return new AttachRefused(HoldsNoSession: !Started);
        return Accept(attach, started: null);
    }

    private AttachAccepted Accept(Attach attach, SessionEvents.Started? started)
    {
        var attached = new Attached(attach.ConnectionId, attach.Frontend);
        var takenOver = DetachedAt is null && ConnectionId is { } open && open != attach.ConnectionId
            ? new FrontendCommands.TakenOver(attach.SessionId, open) : null;
        return new AttachAccepted(
            started is null ? [attached] : [started, attached], takenOver, takenOver is null ? null : Frontend,
            RebindTopics: Frontend is not null);
    }

    /// <summary>The connection that carries the session is gone: its resume window starts. Any other: nothing.</summary>
    public Detached? DecideDetach(string connectionId, DateTime now) =>
        connectionId == ConnectionId && DetachedAt is null ? new Detached(connectionId, now) : null;

    /// <summary>The frontend node that carried the session died without detaching it.</summary>
    public Detached? DecideFrontendLost(IActorRef frontend, DateTime now) =>
        Equals(frontend, Frontend) && ConnectionId is { } connectionId ? DecideDetach(connectionId, now) : null;

    public bool HasExpired(DateTime now) => ExpiresAt is { } at && now >= at;

    public void Apply(ISessionEvent @event)
    {
        switch (@event)
        {
            case SessionEvents.Started started:
                TokenHash = started.TokenHash;
                Application = started.Application;
                break;
            case Attached attached:
                ConnectionId = attached.ConnectionId;
                Frontend = attached.Frontend;
                DetachedAt = null;
                break;
            case Detached detached when detached.ConnectionId == ConnectionId:
                DetachedAt = detached.At;
                break;
            case PresenceSet set:
                Presence = set.Presence;
                break;
            case Subscribed subscribed:
                _topics.Add(subscribed.TopicId);
                break;
            case Unsubscribed unsubscribed:
                _topics.Remove(unsubscribed.TopicId);
                break;
            case SessionEvents.Ended:
                Ended = true;
                _topics.Clear();
                Presence = null;
                break;
        }
    }
}
