using Akka.Actor;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.SessionCommands;
using static SocketStarter.Messages.SessionEvents;

namespace SocketStarter.Backend.Sessions;

/// <summary>
/// The rules of one chat session, without an actor: who may attach, which connection carries it, its name and
/// rooms, and what each client request may do. <c>Decide*</c> says what a command leads to (events to persist, or
/// a step another entity must take first, or a rejection); <see cref="Apply"/> applies a persisted event.
/// <see cref="SessionActor"/> runs the decisions.
/// </summary>
public sealed class SessionState(SessionSettings settings)
{
    private readonly SortedSet<string> _rooms = new(StringComparer.Ordinal);

    public string? TokenHash { get; private set; }
    public bool Ended { get; private set; }
    public string? Name { get; private set; }
    public IReadOnlyCollection<string> Rooms => _rooms;
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
    /// one live connection per session) and, with <paramref name="RebindRooms"/>, point the rooms at the new frontend.
    /// </summary>
    public sealed record AttachAccepted(
        IReadOnlyList<ISessionEvent> Events, FrontendCommands.TakenOver? TakenOver, IActorRef? TakenOverFrontend, bool RebindRooms)
        : AttachDecision;

    public AttachDecision DecideAttach(Attach attach)
    {
        if (attach.NewTokenHash is { } tokenHash)
            // A repeated start (the frontend retried it after a restart of this entity) attaches again.
            return Accept(attach, TokenHash is null ? new SessionEvents.Started(tokenHash) : null);
        if (!Started || attach.ResumeSecret is null || !ResumeToken.Verify(attach.ResumeSecret, TokenHash!))
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
            RebindRooms: Frontend is not null);
    }

    /// <summary>The connection that carries the session is gone: its resume window starts. Any other: nothing.</summary>
    public Detached? DecideDetach(string connectionId, DateTime now) =>
        connectionId == ConnectionId && DetachedAt is null ? new Detached(connectionId, now) : null;

    /// <summary>The frontend node that carried the session died without detaching it.</summary>
    public Detached? DecideFrontendLost(IActorRef frontend, DateTime now) =>
        Equals(frontend, Frontend) && ConnectionId is { } connectionId ? DecideDetach(connectionId, now) : null;

    public bool HasExpired(DateTime now) => ExpiresAt is { } at && now >= at;

    public abstract record FrameDecision;

    /// <summary>Answer with this error; nothing changes.</summary>
    public sealed record Reject(string Code, string Message, string? Ref) : FrameDecision;

    /// <summary>The name is the session's already: answer <c>registered</c>.</summary>
    public sealed record AlreadyRegistered(string Name) : FrameDecision;

    /// <summary>
    /// Claim <paramref name="NameKey"/> in the name registry; granted, persist the name, release
    /// <paramref name="ReleaseKey"/> (the name held before, if another) and rename the session in its rooms.
    /// </summary>
    public sealed record ClaimName(string Name, string NameKey, string? ReleaseKey) : FrameDecision;

    /// <summary>Join the room entity; then persist the membership unless the session is in it already.</summary>
    public sealed record JoinRoom(string Room, string Name, long? Since, bool AlreadyJoined) : FrameDecision;

    /// <summary>Leave the room entity; then persist that the session left it.</summary>
    public sealed record LeaveRoom(string Room) : FrameDecision;

    /// <summary>Post to the room entity; nothing is persisted here (the room persists the message).</summary>
    public sealed record PostToRoom(string Room, string Name, string Text, string? ClientMessageId) : FrameDecision;

    public FrameDecision DecideFrame(ClientRequest request) => request switch
    {
        ClientRequest.Rejected rejected => new Reject(rejected.Code, rejected.Message, rejected.Ref),
        ClientRequest.Register register when register.Name == Name => new AlreadyRegistered(register.Name),
        ClientRequest.Register register => new ClaimName(register.Name, NameKey(register.Name),
            Name is { } previous && NameKey(previous) != NameKey(register.Name) ? NameKey(previous) : null),
        ClientRequest.Join when Name is null =>
            new Reject(ErrorCodes.NotRegistered, "Register a name before joining a room.", "join"),
        ClientRequest.Join join when !_rooms.Contains(join.Room) && _rooms.Count >= settings.MaxRooms =>
            new Reject(ErrorCodes.TooManyRooms, $"A session is in at most {settings.MaxRooms} rooms; leave one first.", "join"),
        ClientRequest.Join join => new JoinRoom(join.Room, Name, join.Since, _rooms.Contains(join.Room)),
        ClientRequest.Leave leave when !_rooms.Contains(leave.Room) =>
            new Reject(ErrorCodes.NotJoined, $"You are not in room '{leave.Room}'.", "leave"),
        ClientRequest.Leave leave => new LeaveRoom(leave.Room),
        ClientRequest.Say say when !_rooms.Contains(say.Room) || Name is null =>
            new Reject(ErrorCodes.NotJoined, $"Join room '{say.Room}' before saying something in it.", "say"),
        ClientRequest.Say say => new PostToRoom(say.Room, Name, say.Text, say.Id),
        _ => throw new ArgumentOutOfRangeException(nameof(request), request, "Unknown client request"),
    };

    /// <summary>The registry refused the name: another session holds it.</summary>
    public static Reject NameTaken(string name) => new(ErrorCodes.NameTaken, $"The name '{name}' is taken.", "register");

    public void Apply(ISessionEvent @event)
    {
        switch (@event)
        {
            case SessionEvents.Started started:
                TokenHash = started.TokenHash;
                break;
            case Attached attached:
                ConnectionId = attached.ConnectionId;
                Frontend = attached.Frontend;
                DetachedAt = null;
                break;
            case Detached detached when detached.ConnectionId == ConnectionId:
                DetachedAt = detached.At;
                break;
            case NameSet set:
                Name = set.Name;
                break;
            case RoomJoined joined:
                _rooms.Add(joined.RoomId);
                break;
            case RoomLeft left:
                _rooms.Remove(left.RoomId);
                break;
            case SessionEvents.Ended:
                Ended = true;
                _rooms.Clear();
                Name = null;
                break;
        }
    }

    /// <summary>Names are unique regardless of case.</summary>
    public static string NameKey(string name) => name.ToLowerInvariant();
}
