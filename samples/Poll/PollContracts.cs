using System.Collections.Frozen;
using Akka.Actor;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;

namespace SocketStarter.Samples.Poll;

/// <summary>Every poll message that crosses nodes or is persisted; bound to <see cref="PollSerializer"/>.</summary>
public interface IPollContract;

public interface IWithPollId
{
    string PollId { get; }
}

/// <summary>What a poll shows: its question, its options and the votes each has.</summary>
public sealed record PollResults(string Question, IReadOnlyList<string> Options, IReadOnlyList<int> Votes)
{
    public int Total => Votes.Sum();
}

/// <summary>One sharded entity per poll. <c>EnvelopeKey</c> identifies the client frame: the same frame decided
/// again after a crash gets the answer it got the first time.</summary>
public static class PollCommands
{
    public sealed record Create(string PollId, string SessionId, string EnvelopeKey, string Question, IReadOnlyList<string> Options, long OpId)
        : IWithPollId, IEntityOperation, IPollContract;

    public sealed record Vote(string PollId, string SessionId, string EnvelopeKey, int Option, long OpId)
        : IWithPollId, IEntityOperation, IPollContract;
}

public static class PollReplies
{
    /// <summary><paramref name="Outcome"/> is one of <see cref="PollOutcomes"/>; <paramref name="Results"/> once the poll exists.</summary>
    public sealed record Answer(string PollId, long OpId, string Outcome, PollResults? Results) : IWithPollId, IEntityReply, IPollContract;
}

public static class PollOutcomes
{
    public const string Done = "done";
    public const string Exists = "poll_exists";
    public const string NoSuchPoll = "no_such_poll";
    public const string InvalidOption = "invalid_option";
    public const string AlreadyVoted = "already_voted";
}

/// <summary>Every persisted event of a poll entity.</summary>
public interface IPollEvent : IPollContract;

public static class PollEvents
{
    public sealed record Created(string Question, IReadOnlyList<string> Options, string SessionId, string EnvelopeKey) : IPollEvent;

    public sealed record VoteCast(string SessionId, int Option, string EnvelopeKey) : IPollEvent;
}

public sealed class PollSerializer(ExtendedActorSystem system) : JsonContractSerializer(system, Contracts)
{
    public const int SerializerId = 4713;

    /// <summary>Never reuse or change a manifest once it has been released.</summary>
    public static readonly FrozenDictionary<string, Type> Contracts = new Dictionary<string, Type>
    {
        ["poll.create.v1"] = typeof(PollCommands.Create),
        ["poll.vote.v1"] = typeof(PollCommands.Vote),
        ["poll.answer.v1"] = typeof(PollReplies.Answer),
        ["poll.created.v1"] = typeof(PollEvents.Created),
        ["poll.vote-cast.v1"] = typeof(PollEvents.VoteCast),
    }.ToFrozenDictionary();

    public override int Identifier => SerializerId;
}
