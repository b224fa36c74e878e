namespace SocketStarter.Samples.Poll;

/// <summary>
/// The rules of one poll, without an actor: it is created once, each session votes once, and the same client frame
/// asked again (a session entity that restarted halfway) gets the answer it got the first time.
/// </summary>
public sealed class PollState
{
    private PollEvents.Created? _created;
    private readonly Dictionary<string, PollEvents.VoteCast> _votes = new();
    private int[] _counts = [];

    public PollResults? Results => _created is null ? null : new(_created.Question, _created.Options, _counts.ToArray());

    /// <summary>The event to persist (if any) and the outcome to answer once it is.</summary>
    public (IPollEvent? Event, string Outcome) DecideCreate(PollCommands.Create create)
    {
        if (_created is null)
            return (new PollEvents.Created(create.Question, create.Options, create.SessionId, create.EnvelopeKey), PollOutcomes.Done);
        var repeat = _created.SessionId == create.SessionId && _created.EnvelopeKey == create.EnvelopeKey;
        return (null, repeat ? PollOutcomes.Done : PollOutcomes.Exists);
    }

    public (IPollEvent? Event, string Outcome) DecideVote(PollCommands.Vote vote)
    {
        if (_created is null) return (null, PollOutcomes.NoSuchPoll);
        if (_votes.TryGetValue(vote.SessionId, out var cast))
            return (null, cast.EnvelopeKey == vote.EnvelopeKey ? PollOutcomes.Done : PollOutcomes.AlreadyVoted);
        if (vote.Option < 0 || vote.Option >= _created.Options.Count) return (null, PollOutcomes.InvalidOption);
        return (new PollEvents.VoteCast(vote.SessionId, vote.Option, vote.EnvelopeKey), PollOutcomes.Done);
    }

    public void Apply(IPollEvent @event)
    {
        switch (@event)
        {
            case PollEvents.Created created:
                _created = created;
                _counts = new int[created.Options.Count];
                break;
            case PollEvents.VoteCast cast:
                _votes[cast.SessionId] = cast;
                _counts[cast.Option]++;
                break;
        }
    }
}
