using Akka.Actor;
using Akka.Persistence;
using SocketStarter.Gateway.Backend;
using SocketStarter.Messages;

namespace SocketStarter.Samples.Chat;

/// <summary>One user name, held by at most one live session across the cluster.</summary>
public sealed class NameActor : ReceivePersistentActor
{
    private readonly string _nameKey;
    private string? _owner;

    public static Props Props(string nameKey) => Akka.Actor.Props.Create(() => new NameActor(nameKey));

    public NameActor(string nameKey)
    {
        _nameKey = nameKey;

        Recover<INameEvent>(Apply);

        Command<NameCommands.Claim>(claim =>
        {
            if (_owner == claim.SessionId)
                Sender.Tell(new NameReplies.ClaimResult(_nameKey, claim.OpId, Granted: true));
            else if (_owner is not null)
                Sender.Tell(new NameReplies.ClaimResult(_nameKey, claim.OpId, Granted: false));
            else
                Persist(new NameEvents.Claimed(claim.SessionId), claimed =>
                {
                    Apply(claimed);
                    Sender.Tell(new NameReplies.ClaimResult(_nameKey, claim.OpId, Granted: true));
                });
        });
        Command<NameCommands.Release>(release =>
        {
            if (_owner != release.SessionId)
                Sender.Tell(new NameReplies.Released(_nameKey, release.OpId));
            else
                Persist(new NameEvents.Freed(release.SessionId), freed =>
                {
                    Apply(freed);
                    Sender.Tell(new NameReplies.Released(_nameKey, release.OpId));
                });
        });
        Command<StopEntity>(_ => HandOff.Stop(Context));
    }

    public override string PersistenceId => $"name-{_nameKey}";

    private void Apply(INameEvent @event) => _owner = @event switch
    {
        NameEvents.Claimed claimed => claimed.SessionId,
        _ => null,
    };
}
