using System.Collections.Frozen;
using Akka.Actor;

namespace SocketStarter.Messages.Serialization;

/// <summary>The gateway's contracts: every <see cref="IWireMessage"/>.</summary>
public sealed class WireSerializer(ExtendedActorSystem system) : JsonContractSerializer(system, Contracts)
{
    public const int SerializerId = 4711;

    /// <summary>Manifest of every wire contract. Never reuse or change a manifest once it has been released.</summary>
    public static readonly FrozenDictionary<string, Type> Contracts = new Dictionary<string, Type>
    {
        ["stop-entity.v1"] = typeof(StopEntity),
        ["session.attach.v1"] = typeof(SessionCommands.Attach),
        ["session.frame.v1"] = typeof(SessionCommands.ClientFrame),
        ["session.detach.v1"] = typeof(SessionCommands.Detach),
        ["session.started.v1"] = typeof(SessionEvents.Started),
        ["session.attached.v1"] = typeof(SessionEvents.Attached),
        ["session.detached.v1"] = typeof(SessionEvents.Detached),
        ["session.presence-set.v1"] = typeof(SessionEvents.PresenceSet),
        ["session.subscribed.v1"] = typeof(SessionEvents.Subscribed),
        ["session.unsubscribed.v1"] = typeof(SessionEvents.Unsubscribed),
        ["session.ended.v1"] = typeof(SessionEvents.Ended),
        ["frontend.ack.v1"] = typeof(FrontendCommands.Acknowledged),
        ["frontend.resume-refused.v1"] = typeof(FrontendCommands.ResumeRefused),
        ["frontend.taken-over.v1"] = typeof(FrontendCommands.TakenOver),
        ["frontend.session-ready.v1"] = typeof(FrontendCommands.SessionReady),
        ["frontend.to-session.v1"] = typeof(FrontendCommands.ToSession),
        ["frontend.topic-frame.v1"] = typeof(FrontendCommands.TopicFrame),
        ["frontend.topic-batch.v1"] = typeof(FrontendCommands.TopicBatch),
        ["frontend.subscribe.v1"] = typeof(FrontendCommands.Subscribe),
        ["frontend.unsubscribe.v1"] = typeof(FrontendCommands.Unsubscribe),
        ["topic.subscribe.v1"] = typeof(TopicCommands.Subscribe),
        ["topic.unsubscribe.v1"] = typeof(TopicCommands.Unsubscribe),
        ["topic.publish.v1"] = typeof(TopicCommands.Publish),
        ["topic.rebind.v1"] = typeof(TopicCommands.Rebind),
        ["topic.set-presence.v1"] = typeof(TopicCommands.SetPresence),
        ["topic.delivered.v1"] = typeof(TopicCommands.Delivered),
        ["topic.done.v1"] = typeof(TopicReplies.Done),
        ["topic.message.v1"] = typeof(TopicMessage),
        ["topic.get-member-count.v1"] = typeof(TopicQueries.GetMemberCount),
        ["topic.member-count.v1"] = typeof(TopicQueries.MemberCount),
        ["topic.member-joined.v1"] = typeof(TopicEvents.MemberJoined),
        ["topic.member-left.v1"] = typeof(TopicEvents.MemberLeft),
        ["topic.member-rebound.v1"] = typeof(TopicEvents.MemberRebound),
        ["topic.presence-changed.v1"] = typeof(TopicEvents.PresenceChanged),
        ["topic.published.v1"] = typeof(TopicEvents.Published),
        ["topic.snapshot.v1"] = typeof(TopicEvents.TopicSnapshot),
    }.ToFrozenDictionary();

    public override int Identifier => SerializerId;
}
