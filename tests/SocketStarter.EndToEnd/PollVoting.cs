using System.Text.Json;

namespace SocketStarter.EndToEnd;

/// <summary>
/// Sessions of the poll sample voting through whatever the test does to the cluster: one new voter at a time, each
/// voting once and waiting for its answer in the background, until stopped.
/// </summary>
public sealed class PollVoting : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly Uri _uri;
    /// <summary>Each voter's option and its answer; a voter disconnects once answered (the frontend limits
    /// connections per address, and the test's clients share one).</summary>
    private readonly List<(int Option, Task<JsonElement> Voted)> _voters = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    public string Poll { get; } = $"chaos{Random.Shared.Next(100000)}";
    public static readonly string[] Options = ["red", "green", "blue"];

    private PollVoting(Uri uri) => _uri = uri;

    public static async Task<PollVoting> StartAsync(Uri pollUri)
    {
        var voting = new PollVoting(pollUri);
        await using (var creator = await ChatClient.ConnectAsync(pollUri))
        {
            await creator.SendAsync(new { type = "create", poll = voting.Poll, question = "Which?", options = Options });
            await creator.ExpectAsync("created", Wait);
        }
        voting._running = voting.VoteUntilStoppedAsync();
        return voting;
    }

    private async Task VoteUntilStoppedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var option = _voters.Count % Options.Length;
            _voters.Add((option, VoteAsync(option)));
            try { await Task.Delay(300, _stop.Token); } catch (OperationCanceledException) { }
        }
    }

    private async Task<JsonElement> VoteAsync(int option)
    {
        await using var client = await ChatClient.ConnectAsync(_uri);
        await client.SendAsync(new { type = "vote", poll = Poll, option });
        return await client.ExpectAsync("voted", Wait);
    }

    /// <summary>Stops voting; every voter answered <c>voted</c>, and a fresh watcher sees each vote counted once.</summary>
    public async Task<int> AssertEveryVoteCountedOnceAsync()
    {
        await _stop.CancelAsync();
        await _running;
        foreach (var voter in _voters) Assert.Equal(voter.Option, (await voter.Voted).GetProperty("option").GetInt32());
        var expected = Enumerable.Range(0, Options.Length).Select(o => _voters.Count(v => v.Option == o)).ToList();

        await using var watcher = await ChatClient.ConnectAsync(_uri);
        await watcher.SendAsync(new { type = "watch", poll = Poll });
        var results = (await watcher.ExpectAsync("watching", Wait)).GetProperty("results");
        Assert.Equal(_voters.Count, results.GetProperty("total").GetInt32());
        Assert.Equal(expected, results.GetProperty("votes").EnumerateArray().Select(v => v.GetInt32()));
        return _voters.Count;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        // Voters still waiting (a test that failed before asserting) end with their own timeout.
        await Task.WhenAll(_voters.Select(v => v.Voted.ContinueWith(_ => { }, TaskScheduler.Default)));
    }
}
