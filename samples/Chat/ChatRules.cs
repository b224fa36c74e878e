using Akka.Actor;
using SocketStarter.Gateway.Backend.Application;
using Microsoft.Extensions.Configuration;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Samples.Chat;

/// <param name="MaxRooms">Rooms one session may be in at once: each costs a membership in a room and a presence frame
/// to every other member, so one client must not hold thousands.</param>
public sealed record ChatSettings(int MaxRooms)
{
    public static ChatSettings FromConfiguration(IConfiguration configuration) =>
        new(MaxRooms: new SettingsReader(configuration).Int("MAX_ROOMS_PER_SESSION", 100, min: 1, max: 100_000));
}

/// <summary>
/// The chat's rules, without an actor: what each client request does, given what the gateway knows of the session
/// (its presence is its registered name, its topics are its rooms). Names are held in the name registry
/// (<see cref="NameActor"/>, reached through <paramref name="names"/>), so two sessions never share one.
/// </summary>
public sealed class ChatRules(IActorRef names, ChatSettings settings)
{
    public Step Decide(SessionView session, ChatRequest request) => request switch
    {
        ChatRequest.Rejected rejected => new Step.Error(rejected.Code, rejected.Message, rejected.Ref),
        ChatRequest.Register register when register.Name == session.Presence => new Step.Reply(ChatFrames.Registered(register.Name)),
        ChatRequest.Register register => Register(session, register.Name),
        ChatRequest.Join when session.Presence is null =>
            new Step.Error(ChatErrorCodes.NotRegistered, "Register a name before joining a room.", "join"),
        ChatRequest.Join join when !session.Topics.Contains(join.Room) && session.Topics.Count >= settings.MaxRooms =>
            new Step.Error(ChatErrorCodes.TooManyRooms, $"A session is in at most {settings.MaxRooms} rooms; leave one first.", "join"),
        ChatRequest.Join join => new Step.Subscribe(join.Room, join.Since),
        ChatRequest.Leave leave when !session.Topics.Contains(leave.Room) =>
            new Step.Error(ChatErrorCodes.NotJoined, $"You are not in room '{leave.Room}'.", "leave"),
        ChatRequest.Leave leave => new Step.Unsubscribe(leave.Room),
        ChatRequest.Say say when !session.Topics.Contains(say.Room) || session.Presence is null =>
            new Step.Error(ChatErrorCodes.NotJoined, $"Join room '{say.Room}' before saying something in it.", "say"),
        ChatRequest.Say say => new Step.Publish(say.Room, ChatFrames.MessagePayload(session.Presence, say.Text, say.Id), say.Id),
        _ => throw new ArgumentOutOfRangeException(nameof(request), request, "Unknown chat request"),
    };

    /// <summary>The session's name is released when it ends, so another may take it.</summary>
    public Step Ended(SessionView session) => session.Presence is { } name ? Release(session, NameKey(name)) : Step.None;

    /// <summary>
    /// Claims the name in the registry; granted, the session is shown by it in its rooms (left and joined again under
    /// the new name), the name it held before is released (unless only its case changed), and it is answered.
    /// </summary>
    private Step Register(SessionView session, string name) =>
        new Step.Ask(names, opId => new NameCommands.Claim(NameKey(name), session.SessionId, opId), reply =>
            reply is NameReplies.ClaimResult { Granted: true }
                ? Step.Then(
                    new Step.SetPresence(name),
                    session.Presence is { } previous && NameKey(previous) != NameKey(name) ? Release(session, NameKey(previous)) : Step.None,
                    new Step.Reply(ChatFrames.Registered(name)))
                : new Step.Error(ChatErrorCodes.NameTaken, $"The name '{name}' is taken.", "register"));

    private Step Release(SessionView session, string nameKey) =>
        new Step.Ask(names, opId => new NameCommands.Release(nameKey, session.SessionId, opId), _ => Step.None);

    /// <summary>Names are unique regardless of case.</summary>
    public static string NameKey(string name) => name.ToLowerInvariant();
}
