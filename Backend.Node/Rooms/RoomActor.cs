using Akka.Actor;
using Akka.Persistence;
using SocketStarter.Messages;
using SocketStarter.Messages.ClientProtocol;
using static SocketStarter.Messages.RoomEvents;

namespace SocketStarter.Backend.Rooms;

/// <summary>
/// One chat room: members, the message sequence and the kept history. Every command is idempotent and
/// answered only after its event is persisted. Deliveries go once to each frontend node with members.
/// </summary>
public sealed class RoomActor : ReceivePersistentActor
{
    public const int HistoryOnJoin = 50;
    public const int KeptHistory = 1000;
    /// <summary>Post keys remembered per member: enough to recognise any retry or repeated client id.</summary>
    public const int RecentKeysPerMember = 256;
    private const int SnapshotEvery = 500;

    private readonly string _roomId;
    private long _lastSeq;
    private readonly LinkedList<ChatMessage> _history = new();
    private readonly Dictionary<string, Member> _members = new();
    private readonly Dictionary<string, RecentKeys> _recentKeys = new();

    public static Props Props(string roomId) => Akka.Actor.Props.Create(() => new RoomActor(roomId));

    public RoomActor(string roomId)
    {
        _roomId = roomId;

        Recover<SnapshotOffer>(offer => { if (offer.Snapshot is RoomSnapshot snapshot) Restore(snapshot); });
        Recover<MemberJoined>(Apply);
        Recover<MemberLeft>(Apply);
        Recover<MemberRebound>(Apply);
        Recover<MemberRenamed>(Apply);
        Recover<MessagePosted>(Apply);

        Command<RoomCommands.Join>(HandleJoin);
        Command<RoomCommands.Leave>(HandleLeave);
        Command<RoomCommands.Post>(HandlePost);
        Command<RoomCommands.Rebind>(HandleRebind);
        Command<RoomCommands.Rename>(HandleRename);
        Command<RoomQueries.GetMemberCount>(_ => Sender.Tell(new RoomQueries.MemberCount(_roomId, _members.Count)));
        Command<SaveSnapshotSuccess>(success =>
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
        // Hand-off: commands being persisted finish first (persistence stashes this message until then).
        Command<StopEntity>(_ => HandOff.Stop(Context));
    }

    public override string PersistenceId => $"room-{_roomId}";

    private void HandleJoin(RoomCommands.Join join)
    {
        if (_members.TryGetValue(join.SessionId, out var member))
        {
            if (!Equals(member.Frontend, join.Frontend))
            {
                PersistThen(new MemberRebound(join.SessionId, join.Frontend), () => AnswerJoin(join));
                return;
            }
            AnswerJoin(join);
            return;
        }

        PersistThen(new MemberJoined(join.SessionId, join.Name, join.Frontend), () =>
        {
            AnswerJoin(join);
            Broadcast(0, ServerFrames.Presence(_roomId, joined: join.Name, left: null), exceptSessionId: join.SessionId);
        });
    }

    private void AnswerJoin(RoomCommands.Join join)
    {
        var history = join.Since is { } since
            ? _history.Where(message => message.Seq > since)
            : _history.Skip(Math.Max(0, _history.Count - HistoryOnJoin));
        var frame = ServerFrames.Joined(_roomId, _members.Values.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal), history);
        join.Frontend.Tell(new FrontendCommands.Subscribe(_roomId, join.SessionId, frame));
        Sender.Tell(new RoomReplies.Done(_roomId, join.OpId));
    }

    private void HandleLeave(RoomCommands.Leave leave)
    {
        var leftFrame = leave.Expired ? null : ServerFrames.Left(_roomId);
        if (!_members.TryGetValue(leave.SessionId, out var member))
        {
            Sender.Tell(new RoomReplies.Done(_roomId, leave.OpId));
            return;
        }

        var replyTo = Sender;
        PersistThen(new MemberLeft(leave.SessionId), () =>
        {
            member.Frontend.Tell(new FrontendCommands.Unsubscribe(_roomId, leave.SessionId, leftFrame));
            Broadcast(0, ServerFrames.Presence(_roomId, joined: null, left: member.Name), exceptSessionId: leave.SessionId);
            replyTo.Tell(new RoomReplies.Done(_roomId, leave.OpId));
        });
    }

    private void HandlePost(RoomCommands.Post post)
    {
        var keys = _recentKeys.GetValueOrDefault(post.SessionId);
        if (keys is not null && (keys.Contains(post.EnvelopeKey) || (post.ClientMessageId is { } id && keys.Contains(ClientIdKey(id)))))
        {
            Sender.Tell(new RoomReplies.Done(_roomId, post.OpId));
            return;
        }

        var message = new ChatMessage(_lastSeq + 1, post.Name, post.Text, post.ClientMessageId, DateTime.UtcNow);
        var replyTo = Sender;
        PersistThen(new MessagePosted(message, post.SessionId, post.EnvelopeKey), () =>
        {
            Broadcast(message.Seq, ServerFrames.Message(_roomId, message), exceptSessionId: null);
            replyTo.Tell(new RoomReplies.Done(_roomId, post.OpId));
        });
    }

    private void HandleRebind(RoomCommands.Rebind rebind)
    {
        var replyTo = Sender;
        void Subscribe()
        {
            rebind.Frontend.Tell(new FrontendCommands.Subscribe(_roomId, rebind.SessionId, Frame: null));
            replyTo.Tell(new RoomReplies.Done(_roomId, rebind.OpId));
        }

        if (_members.TryGetValue(rebind.SessionId, out var member) && !Equals(member.Frontend, rebind.Frontend))
            PersistThen(new MemberRebound(rebind.SessionId, rebind.Frontend), Subscribe);
        else if (member is not null)
            Subscribe();
        else
            replyTo.Tell(new RoomReplies.Done(_roomId, rebind.OpId));
    }

    private void HandleRename(RoomCommands.Rename rename)
    {
        var replyTo = Sender;
        if (!_members.TryGetValue(rename.SessionId, out var member) || member.Name == rename.Name)
        {
            replyTo.Tell(new RoomReplies.Done(_roomId, rename.OpId));
            return;
        }
        PersistThen(new MemberRenamed(rename.SessionId, rename.Name), () =>
        {
            Broadcast(0, ServerFrames.Presence(_roomId, joined: null, left: member.Name), exceptSessionId: rename.SessionId);
            Broadcast(0, ServerFrames.Presence(_roomId, joined: rename.Name, left: null), exceptSessionId: rename.SessionId);
            replyTo.Tell(new RoomReplies.Done(_roomId, rename.OpId));
        });
    }

    /// <summary>One copy per frontend node that has members here; the frontend fans it out locally.</summary>
    private void Broadcast(long seq, string frame, string? exceptSessionId)
    {
        var command = new FrontendCommands.RoomFrame(_roomId, seq, frame, exceptSessionId);
        var frontends = _members.Values.Where(member => member.SessionId != exceptSessionId).Select(member => member.Frontend).Distinct();
        foreach (var frontend in frontends)
            frontend.Tell(command);
    }

    private void PersistThen<TEvent>(TEvent @event, Action then) where TEvent : IWireMessage
    {
        Persist(@event, persisted =>
        {
            ApplyEvent(persisted);
            then();
            if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(TakeSnapshot());
        });
    }

    private void ApplyEvent(IWireMessage @event)
    {
        switch (@event)
        {
            case MemberJoined e: Apply(e); break;
            case MemberLeft e: Apply(e); break;
            case MemberRebound e: Apply(e); break;
            case MemberRenamed e: Apply(e); break;
            case MessagePosted e: Apply(e); break;
        }
    }

    private void Apply(MemberJoined e) => _members[e.SessionId] = new Member(e.SessionId, e.Name, e.Frontend);

    private void Apply(MemberLeft e)
    {
        _members.Remove(e.SessionId);
        _recentKeys.Remove(e.SessionId);
    }

    private void Apply(MemberRebound e)
    {
        if (_members.TryGetValue(e.SessionId, out var member)) _members[e.SessionId] = member with { Frontend = e.Frontend };
    }

    private void Apply(MemberRenamed e)
    {
        if (_members.TryGetValue(e.SessionId, out var member)) _members[e.SessionId] = member with { Name = e.Name };
    }

    private void Apply(MessagePosted e)
    {
        _lastSeq = e.Message.Seq;
        _history.AddLast(e.Message);
        if (_history.Count > KeptHistory) _history.RemoveFirst();
        if (!_recentKeys.TryGetValue(e.SessionId, out var keys)) _recentKeys[e.SessionId] = keys = new RecentKeys();
        keys.Add(e.EnvelopeKey);
        if (e.Message.ClientMessageId is { } id) keys.Add(ClientIdKey(id));
    }

    private RoomSnapshot TakeSnapshot() => new(
        _lastSeq, _history.ToList(), _members.Values.ToList(),
        _recentKeys.Select(pair => new RecentPostKeys(pair.Key, pair.Value.InOrder())).ToList());

    private void Restore(RoomSnapshot snapshot)
    {
        _lastSeq = snapshot.LastSeq;
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
