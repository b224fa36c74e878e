using Akka.Actor;
using SocketStarter.Messages;
using static SocketStarter.Messages.TopicEvents;

namespace SocketStarter.Gateway.Backend.Topics;

/// <summary>
/// The rules of one topic, without an actor: who is subscribed, the message sequence, the kept history and the
/// keys that make publishing idempotent. <c>Decide*</c> says which event a command causes (none: nothing changes);
/// <see cref="Apply"/> applies a persisted event. Commands are decided before their batch is written, against what is
/// decided so far: a publish takes its <c>seq</c> and its keys count as seen from that moment (a retry that arrives
/// while the original is being written is recognised); a membership change counts for the next decisions about that
/// member (a leave decided right after a join in the same batch finds the member). What is persisted is unchanged
/// until <see cref="Apply"/>: deliveries, presences and catch-ups go by it.
/// </summary>
public sealed class TopicState
{
    public const int HistoryOnJoin = 50;
    public const int KeptHistory = 1000;
    /// <summary>Publish keys remembered per member: enough to recognise any retry or repeated client id.</summary>
    public const int RecentKeysPerMember = 256;

    private readonly LinkedList<TopicMessage> _history = new();
    private readonly Dictionary<string, Member> _members = new();
    /// <summary>How many members each frontend node holds: a batch goes to each node once, found without a walk over
    /// every member (a room of 10,000 members is still a handful of frontends).</summary>
    private readonly Dictionary<IActorRef, int> _membersAt = new();
    private readonly Dictionary<string, RecentKeys> _recentKeys = new();
    /// <summary>Keys of publishes decided but not yet persisted, as (session, key).</summary>
    private readonly HashSet<(string SessionId, string Key)> _pendingKeys = new();
    private int _pendingPublishes;
    /// <summary>Members whose membership changes are decided but not yet persisted: the member as the last one leaves
    /// it (null: left) and how many are pending.</summary>
    private readonly Dictionary<string, (Member? Member, int Pending)> _pendingMembers = new();

    /// <summary>The seq of the last persisted message.</summary>
    public long LastSeq { get; private set; }

    public abstract record PublishDecision;
    /// <summary>Seen before (persisted or being written): answer it once the original is persisted, publish nothing.</summary>
    public sealed record Repeat : PublishDecision { public static readonly Repeat Instance = new(); }
    public sealed record Accepted(Published Event) : PublishDecision;

    public PublishDecision DecidePublish(TopicCommands.Publish publish, DateTime now)
    {
        var clientKey = publish.DedupeId is { } id ? ClientIdKey(id) : null;
        if (Seen(publish.SessionId, publish.EnvelopeKey) || (clientKey is not null && Seen(publish.SessionId, clientKey)))
            return Repeat.Instance;

        var message = new TopicMessage(LastSeq + _pendingPublishes + 1, publish.Payload, publish.DedupeId, now);
        _pendingPublishes++;
        _pendingKeys.Add((publish.SessionId, publish.EnvelopeKey));
        if (clientKey is not null) _pendingKeys.Add((publish.SessionId, clientKey));
        return new Accepted(new Published(message, publish.SessionId, publish.EnvelopeKey));
    }

    /// <summary>Joined already on the same frontend: nothing. On another: it moved there. Else it joins.</summary>
    public ITopicEvent? DecideSubscribe(TopicCommands.Subscribe subscribe)
    {
        var (sessionId, frontend) = (subscribe.SessionId, subscribe.Frontend);
        return DecidedMemberOf(sessionId) switch
        {
            null => Decided(new MemberJoined(sessionId, subscribe.Presence, frontend), new Member(sessionId, subscribe.Presence, frontend)),
            var member when Equals(member.Frontend, frontend) => null,
            var member => Decided(new MemberRebound(sessionId, frontend), member with { Frontend = frontend }),
        };
    }

    public MemberLeft? DecideUnsubscribe(TopicCommands.Unsubscribe unsubscribe) =>
        DecidedMemberOf(unsubscribe.SessionId) is not null ? Decided(new MemberLeft(unsubscribe.SessionId), null) : null;

    public MemberRebound? DecideRebind(TopicCommands.Rebind rebind) =>
        DecidedMemberOf(rebind.SessionId) is { } member && !Equals(member.Frontend, rebind.Frontend)
            ? Decided(new MemberRebound(rebind.SessionId, rebind.Frontend), member with { Frontend = rebind.Frontend })
            : null;

    public PresenceChanged? DecideSetPresence(TopicCommands.SetPresence set) =>
        DecidedMemberOf(set.SessionId) is { } member && member.Presence != set.Presence
            ? Decided(new PresenceChanged(set.SessionId, set.Presence), member with { Presence = set.Presence })
            : null;

    /// <summary>The member as the changes decided so far leave it (null: not a member), persisted or not.</summary>
    public Member? DecidedMemberOf(string sessionId) =>
        _pendingMembers.TryGetValue(sessionId, out var pending) ? pending.Member : _members.GetValueOrDefault(sessionId);

    private TEvent Decided<TEvent>(TEvent @event, Member? after) where TEvent : IMemberEvent
    {
        var pending = _pendingMembers.TryGetValue(@event.SessionId, out var earlier) ? earlier.Pending : 0;
        _pendingMembers[@event.SessionId] = (after, pending + 1);
        return @event;
    }

    public int MemberCount => _members.Count;

    /// <summary>How the members are shown, each once; members shown as nothing are not listed.</summary>
    public IEnumerable<string> Presences =>
        _members.Values.Select(m => m.Presence).Where(p => p.Length > 0).Distinct().Order(StringComparer.Ordinal);

    /// <summary>What a subscribing client is sent, oldest first: everything after <paramref name="since"/>, or the last
    /// messages. Read from the newest back: a join wants the end of the 1000 kept, not a walk over all of them.</summary>
    public IReadOnlyList<TopicMessage> HistoryFor(long? since)
    {
        var newestFirst = new List<TopicMessage>();
        for (var node = _history.Last; node is not null; node = node.Previous)
        {
            if (since is { } after ? node.Value.Seq <= after : newestFirst.Count == HistoryOnJoin) break;
            newestFirst.Add(node.Value);
        }
        newestFirst.Reverse();
        return newestFirst;
    }

    /// <summary>The frontend nodes with members other than <paramref name="exceptSessionId"/>: each gets one copy.</summary>
    public IEnumerable<IActorRef> FrontendsExcept(string? exceptSessionId)
    {
        var except = exceptSessionId is null ? null : _members.GetValueOrDefault(exceptSessionId);
        return _membersAt.Where(at => except is null || at.Key != except.Frontend || at.Value > 1).Select(at => at.Key);
    }

    public void Apply(ITopicEvent @event)
    {
        // Replayed events were never pending; a live one was decided here.
        if (@event is IMemberEvent change && _pendingMembers.TryGetValue(change.SessionId, out var pending))
        {
            if (pending.Pending == 1) _pendingMembers.Remove(change.SessionId);
            else _pendingMembers[change.SessionId] = pending with { Pending = pending.Pending - 1 };
        }
        switch (@event)
        {
            case MemberJoined e:
                Put(new Member(e.SessionId, e.Presence, e.Frontend));
                break;
            case MemberLeft e:
                if (_members.Remove(e.SessionId, out var gone)) Uncount(gone.Frontend);
                _recentKeys.Remove(e.SessionId);
                break;
            case MemberRebound e when _members.TryGetValue(e.SessionId, out var member):
                Put(member with { Frontend = e.Frontend });
                break;
            case PresenceChanged e when _members.TryGetValue(e.SessionId, out var member):
                _members[e.SessionId] = member with { Presence = e.Presence };
                break;
            case Published e:
                ApplyPublished(e);
                break;
        }
    }

    private void Put(Member member)
    {
        if (_members.TryGetValue(member.SessionId, out var before)) Uncount(before.Frontend);
        _members[member.SessionId] = member;
        _membersAt[member.Frontend] = _membersAt.GetValueOrDefault(member.Frontend) + 1;
    }

    private void Uncount(IActorRef frontend)
    {
        if (--_membersAt[frontend] == 0) _membersAt.Remove(frontend);
    }

    private void ApplyPublished(Published e)
    {
        LastSeq = e.Message.Seq;
        _history.AddLast(e.Message);
        if (_history.Count > KeptHistory) _history.RemoveFirst();
        if (!_recentKeys.TryGetValue(e.SessionId, out var keys)) _recentKeys[e.SessionId] = keys = new RecentKeys();
        keys.Add(e.EnvelopeKey);
        if (e.Message.DedupeId is { } id) keys.Add(ClientIdKey(id));

        // Replayed events were never pending; a live one was decided by DecidePublish.
        if (_pendingPublishes == 0) return;
        _pendingPublishes--;
        _pendingKeys.Remove((e.SessionId, e.EnvelopeKey));
        if (e.Message.DedupeId is { } clientId) _pendingKeys.Remove((e.SessionId, ClientIdKey(clientId)));
    }

    /// <summary>The persisted state only: posts still being written are not in it.</summary>
    public TopicSnapshot ToSnapshot() => new(
        LastSeq, _history.ToList(), _members.Values.ToList(),
        _recentKeys.Select(pair => new RecentPublishKeys(pair.Key, pair.Value.InOrder())).ToList());

    public void Restore(TopicSnapshot snapshot)
    {
        LastSeq = snapshot.LastSeq;
        _history.Clear();
        foreach (var message in snapshot.History) _history.AddLast(message);
        _members.Clear();
        _membersAt.Clear();
        foreach (var member in snapshot.Members) Put(member);
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

    private static string ClientIdKey(string dedupeId) => $"id:{dedupeId}";

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
