using SocketStarter.Messages;
using SocketStarter.Samples.Poll;

namespace SocketStarter.Tests;

/// <summary>The poll's rules without an actor: one poll per id, one vote per session, the same frame answered alike.</summary>
public sealed class PollStateSpec
{
    private readonly PollState _state = new();

    private string Apply((IPollEvent? Event, string Outcome) decision)
    {
        if (decision.Event is not null) _state.Apply(decision.Event);
        return decision.Outcome;
    }

    private string Create(string session, string key) =>
        Apply(_state.DecideCreate(new PollCommands.Create("lunch", session, key, "Where?", ["pizza", "sushi"], 1)));

    private string Vote(string session, string key, int option) =>
        Apply(_state.DecideVote(new PollCommands.Vote("lunch", session, key, option, 2)));

    [Fact]
    public void A_poll_is_created_once_and_its_creating_frame_asked_again_is_answered_done()
    {
        Assert.Equal(PollOutcomes.NoSuchPoll, Vote("s1", "c1:1", 0));
        Assert.Equal(PollOutcomes.Done, Create("s1", "c1:2"));
        Assert.Equal(PollOutcomes.Done, Create("s1", "c1:2"));
        Assert.Equal(PollOutcomes.Exists, Create("s2", "c2:1"));
        Assert.Equal(new[] { 0, 0 }, _state.Results!.Votes);
    }

    [Fact]
    public void Each_session_votes_once_and_a_repeated_vote_frame_is_counted_once()
    {
        Create("s1", "c1:1");
        Assert.Equal(PollOutcomes.Done, Vote("s1", "c1:2", 1));
        Assert.Equal(PollOutcomes.Done, Vote("s1", "c1:2", 1));
        Assert.Equal(PollOutcomes.AlreadyVoted, Vote("s1", "c1:3", 0));
        Assert.Equal(PollOutcomes.InvalidOption, Vote("s2", "c2:1", 2));
        Assert.Equal(PollOutcomes.Done, Vote("s2", "c2:2", 1));
        Assert.Equal(new[] { 0, 2 }, _state.Results!.Votes);
        Assert.Equal(2, _state.Results.Total);
    }

    [Fact]
    public void A_watcher_starts_from_the_results_with_the_most_votes_whatever_their_order()
    {
        var at = new DateTime(2026, 12, 2, 12, 0, 0, DateTimeKind.Utc);
        TopicMessage Results(long seq, params int[] votes) =>
            new(seq, PollFrames.Payload(new PollResults("Where?", ["pizza", "sushi"], votes)), null, at);
        var frame = new PollFrames().Subscribed("lunch", [], [Results(1, 0, 0), Results(2, 1, 1), Results(3, 1, 0)], more: false);
        var results = System.Text.Json.JsonDocument.Parse(frame).RootElement.GetProperty("results");
        Assert.Equal((2, 2L), (results.GetProperty("total").GetInt32(), results.GetProperty("seq").GetInt64()));
    }
}
