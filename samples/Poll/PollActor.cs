using Akka.Actor;
using Akka.Persistence;
using SocketStarter.Gateway.Backend;
using SocketStarter.Messages;

namespace SocketStarter.Samples.Poll;

/// <summary>One poll: runs <see cref="PollState"/>, answering each command only after its event is persisted.</summary>
public sealed class PollActor : ReceivePersistentActor
{
    private readonly string _pollId;
    private readonly PollState _state = new();

    public static Props Props(string pollId) => Akka.Actor.Props.Create(() => new PollActor(pollId));

    public PollActor(string pollId)
    {
        _pollId = pollId;
        Recover<IPollEvent>(_state.Apply);
        Command<PollCommands.Create>(create => Run(_state.DecideCreate(create), create.OpId));
        Command<PollCommands.Vote>(vote => Run(_state.DecideVote(vote), vote.OpId));
        Command<StopEntity>(_ => HandOff.Stop(Context));
    }

    public override string PersistenceId => $"poll-{_pollId}";

    private void Run((IPollEvent? Event, string Outcome) decision, long opId)
    {
        var replyTo = Sender;
        if (decision.Event is null)
        {
            replyTo.Tell(new PollReplies.Answer(_pollId, opId, decision.Outcome, _state.Results));
            return;
        }
        Persist(decision.Event, persisted =>
        {
            _state.Apply(persisted);
            replyTo.Tell(new PollReplies.Answer(_pollId, opId, decision.Outcome, _state.Results));
        });
    }
}
