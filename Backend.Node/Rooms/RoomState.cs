using Akka.Actor;
using SocketStarter.Messages;
using static SocketStarter.Messages.RoomEvents;

namespace SocketStarter.Backend.Rooms;

/// <summary>
/// The rules of one chat room, without an actor: who is a member, the message sequence, the kept history and the
/// keys that make posts idempotent. <c>Decide*</c> says which event a command causes (none: nothing changes);
/// <see cref="Apply"/> applies a persisted event. Posts are decided before their batch is written: their
/// <c>seq</c> is taken and their keys count as seen from that moment, so a retry that arrives while the original
/// is being written is recognised.
/// </summary>
public sealed class RoomState
{
    public const int HistoryOnJoin = 50;
    public const int KeptHistory = 1000;
    /// <summary>Post keys remembered per member: enough to recognise any retry or repeated client id.</summary>
    public const int RecentKeysPerMember = 256;

    private readonly LinkedList<ChatMessage> _history = new();
    private readonly Dictionary<string, Member> _members = new();
    private readonly Dictionary<string, RecentKeys> _recentKeys = new();
    /// <summary>Keys of posts decided but not yet persisted, as (session, key).</summary>
    private readonly HashSet<(string SessionId, string Key)> _pendingKeys = new();
    private int _pendingPosts;

    /// <summary>The seq of the last persisted message.</summary>
    public long LastSeq { get; private set; }

    public abstract record PostDecision;
    /// <summary>Seen before (persisted or being written): answer it once the original is persisted, post nothing.</summary>
    public sealed record Repeat : PostDecision { public static readonly Repeat Instance = new(); }
    public sealed record Accepted(MessagePosted Event) : PostDecision;

    public PostDecision DecidePost(RoomCommands.Post post, DateTime now)
    {
        var clientKey = post.ClientMessageId is { } id ? ClientIdKey(id) : null;
        if (Seen(post.SessionId, post.EnvelopeKey) || (clientKey is not null && Seen(post.SessionId, clientKey)))
            return Repeat.Instance;

        var message = new ChatMessage(LastSeq + _pendingPosts + 1, post.Name, post.Text, post.ClientMessageId, now);
        _pendingPosts++;
        _pendingKeys.Add((post.SessionId, post.EnvelopeKey));
        if (clientKey is not null) _pendingKeys.Add((post.SessionId, clientKey));
        return new Accepted(new MessagePosted(message, post.SessionId, post.EnvelopeKey));
    }

    /// <summary>Joined already on the same frontend: nothing. On another: it moved there. Else it joins.</summary>
    public IRoomEvent? DecideJoin(RoomCommands.Join join) =>
        _members.TryGetValue(join.SessionId, out var member)
            ? Equals(member.Frontend, join.Frontend) ? null : new MemberRebound(join.SessionId, join.Frontend)
            : new MemberJoined(join.SessionId, join.Name, join.Frontend);

    public MemberLeft? DecideLeave(RoomCommands.Leave leave) =>
        _members.ContainsKey(leave.SessionId) ? new MemberLeft(leave.SessionId) : null;

    public MemberRebound? DecideRebind(RoomCommands.Rebind rebind) =>
        _members.TryGetValue(rebind.SessionId, out var member) && !Equals(member.Frontend, rebind.Frontend)
            ? new MemberRebound(rebind.SessionId, rebind.Frontend)
            : null;

    public MemberRenamed? DecideRename(RoomCommands.Rename rename) =>
        _members.TryGetValue(rename.SessionId, out var member) && member.Name != rename.Name
            ? new MemberRenamed(rename.SessionId, rename.Name)
            : null;

    public Member? MemberOf(string sessionId) => _members.GetValueOrDefault(sessionId);

    public int MemberCount => _members.Count;

    public IEnumerable<string> MemberNames => _members.Values.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal);

    /// <summary>What a joining client is sent: everything after <paramref name="since"/>, or the last messages.</summary>
    public IEnumerable<ChatMessage> HistoryFor(long? since) => since is { } after
        ? _history.Where(message => message.Seq > after)
        : _history.Skip(Math.Max(0, _history.Count - HistoryOnJoin));

    /// <summary>The frontend nodes with members other than <paramref name="exceptSessionId"/>: each gets one copy.</summary>
    public IEnumerable<IActorRef> FrontendsExcept(string? exceptSessionId) =>
        _members.Values.Where(member => member.SessionId != exceptSessionId).Select(member => member.Frontend).Distinct();

    public void Apply(IRoomEvent @event)
    {
        switch (@event)
        {
            case MemberJoined e:
                _members[e.SessionId] = new Member(e.SessionId, e.Name, e.Frontend);
                break;
            case MemberLeft e:
                _members.Remove(e.SessionId);
                _recentKeys.Remove(e.SessionId);
                break;
            case MemberRebound e when _members.TryGetValue(e.SessionId, out var member):
                _members[e.SessionId] = member with { Frontend = e.Frontend };
                break;
            case MemberRenamed e when _members.TryGetValue(e.SessionId, out var member):
                _members[e.SessionId] = member with { Name = e.Name };
                break;
            case MessagePosted e:
                ApplyPosted(e);
                break;
        }
    }

    private void ApplyPosted(MessagePosted e)
    {
        LastSeq = e.Message.Seq;
        _history.AddLast(e.Message);
        if (_history.Count > KeptHistory) _history.RemoveFirst();
        if (!_recentKeys.TryGetValue(e.SessionId, out var keys)) _recentKeys[e.SessionId] = keys = new RecentKeys();
        keys.Add(e.EnvelopeKey);
        if (e.Message.ClientMessageId is { } id) keys.Add(ClientIdKey(id));

        // Replayed events were never pending; a live one was decided by DecidePost.
        if (_pendingPosts == 0) return;
        _pendingPosts--;
        _pendingKeys.Remove((e.SessionId, e.EnvelopeKey));
        if (e.Message.ClientMessageId is { } clientId) _pendingKeys.Remove((e.SessionId, ClientIdKey(clientId)));
    }

    /// <summary>The persisted state only: posts still being written are not in it.</summary>
    public RoomSnapshot ToSnapshot() => new(
        LastSeq, _history.ToList(), _members.Values.ToList(),
        _recentKeys.Select(pair => new RecentPostKeys(pair.Key, pair.Value.InOrder())).ToList());

    public void Restore(RoomSnapshot snapshot)
    {
        LastSeq = snapshot.LastSeq;
        _history.Clear();
        foreach (var message in snapshot.History) _history.AddLast(message);
        _members.Clear();
        foreach (var member in snapshot.Members) _members[member.SessionId] = member;
        _recentKeys.Clear();
        foreach (var recent in snapshot.RecentKeys)
        {
            var keys = new RecentKeys();
            foreach (var key in recent.Keys) keys.Add(key);
            _recentKeys[recent.SessionId] = keys;
        }
    }

    private bool Seen(string sessionId, string key) =>
        _pendingKeys.Contains((sessionId, key)) || (_recentKeys.TryGetValue(sessionId, out var keys) && keys.Contains(key));

    private static string ClientIdKey(string clientMessageId) => $"id:{clientMessageId}";

    /// <summary>A bounded set that forgets its oldest keys first.</summary>
    private sealed class RecentKeys
    {
        private readonly Queue<string> _order = new();
        private readonly HashSet<string> _keys = new(StringComparer.Ordinal);

        public bool Contains(string key) => _keys.Contains(key);

        public void Add(string key)
        {
            if (!_keys.Add(key)) return;
            _order.Enqueue(key);
            if (_order.Count > RecentKeysPerMember) _keys.Remove(_order.Dequeue());
        }

        public IReadOnlyList<string> InOrder() => _order.ToList();
    }
}
