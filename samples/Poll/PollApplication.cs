using Akka.Actor;
using Akka.Hosting;
using SocketStarter.Gateway.Backend;
using SocketStarter.Gateway.Backend.Application;
using SocketStarter.Shared.Hosting;

namespace SocketStarter.Samples.Poll;

/// <summary>
/// A live poll on the gateway, built on its public API only: polls are the application's own entities
/// (<see cref="PollActor"/>), each poll's results go out on a topic of the same name.
/// </summary>
public sealed class PollApplication(IActorRef polls) : IGatewayApplication
{
    public const string Name = "poll";

    public sealed class PollRegion;

    public ITopicFrames Frames { get; } = new PollFrames();

    public Step Decide(SessionView session, string frame) => PollRequest.Parse(frame) switch
    {
        PollRequest.Create create => Ask(opId => new PollCommands.Create(create.Poll, session.SessionId, session.EnvelopeKey, create.Question, create.Options, opId),
            results => Step.Then(new Step.Publish(create.Poll, PollFrames.Payload(results), null), new Step.Reply(PollFrames.Created(create.Poll)))),
        PollRequest.Vote vote => Ask(opId => new PollCommands.Vote(vote.Poll, session.SessionId, session.EnvelopeKey, vote.Option, opId),
            results => Step.Then(new Step.Publish(vote.Poll, PollFrames.Payload(results), null), new Step.Reply(PollFrames.Voted(vote.Poll, vote.Option)))),
        PollRequest.Watch watch => new Step.Subscribe(watch.Poll, Since: null),
        PollRequest.Unwatch unwatch => session.Topics.Contains(unwatch.Poll) ? new Step.Unsubscribe(unwatch.Poll) : Step.None,
        var other => throw new ArgumentOutOfRangeException(nameof(frame), other, "Unknown poll request"),
    };

    public Step Ended(SessionView session) => Step.None;

    /// <summary>Asks the poll; done, its results are published (once per client frame: the topic knows the frame).</summary>
    private Step Ask(Func<long, Messages.IEntityOperation> operation, Func<PollResults, Step> done) =>
        new Step.Ask(polls, operation, reply =>
        {
            var answer = (PollReplies.Answer)reply;
            return answer.Outcome == PollOutcomes.Done
                ? done(answer.Results!)
                : new Step.Error(answer.Outcome, Explain(answer.Outcome), answer.PollId);
        });

    private static string Explain(string outcome) => outcome switch
    {
        PollOutcomes.Exists => "Another poll has that id.",
        PollOutcomes.NoSuchPoll => "There is no poll with that id.",
        PollOutcomes.InvalidOption => "That poll has no such option.",
        PollOutcomes.AlreadyVoted => "You have voted in this poll already.",
        _ => outcome,
    };

    public static GatewayApplication Registration() => new(
        Name,
        registry => new PollApplication(registry.Get<PollRegion>()),
        builder => builder
            .WithCustomSerializer("socketstarter-poll", [typeof(IPollContract)], system => new PollSerializer(system))
            .AddBackendShard<PollRegion>("poll", PollActor.Props, message => (message as IWithPollId)?.PollId));
}
