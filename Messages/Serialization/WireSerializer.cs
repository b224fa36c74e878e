using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace SocketStarter.Messages.Serialization;

/// <summary>
/// Serializes every <see cref="IWireMessage"/> as JSON under a short, stable string manifest. The manifest
/// names the contract, not the CLR type, and JSON tolerates added fields, so a newer backend can read what an
/// older frontend sent and what was persisted before. A contract changed incompatibly gets a new manifest.
/// </summary>
public sealed class WireSerializer : SerializerWithStringManifest
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
        ["session.name-set.v1"] = typeof(SessionEvents.NameSet),
        ["session.room-joined.v1"] = typeof(SessionEvents.RoomJoined),
        ["session.room-left.v1"] = typeof(SessionEvents.RoomLeft),
        ["session.ended.v1"] = typeof(SessionEvents.Ended),
        ["frontend.ack.v1"] = typeof(FrontendCommands.Acknowledged),
        ["frontend.resume-refused.v1"] = typeof(FrontendCommands.ResumeRefused),
        ["frontend.taken-over.v1"] = typeof(FrontendCommands.TakenOver),
        ["frontend.to-session.v1"] = typeof(FrontendCommands.ToSession),
        ["frontend.room-frame.v1"] = typeof(FrontendCommands.RoomFrame),
        ["frontend.room-messages.v1"] = typeof(FrontendCommands.RoomMessages),
        ["frontend.subscribe.v1"] = typeof(FrontendCommands.Subscribe),
        ["frontend.unsubscribe.v1"] = typeof(FrontendCommands.Unsubscribe),
        ["room.join.v1"] = typeof(RoomCommands.Join),
        ["room.leave.v1"] = typeof(RoomCommands.Leave),
        ["room.post.v1"] = typeof(RoomCommands.Post),
        ["room.rebind.v1"] = typeof(RoomCommands.Rebind),
        ["room.rename.v1"] = typeof(RoomCommands.Rename),
        ["room.delivered.v1"] = typeof(RoomCommands.Delivered),
        ["room.done.v1"] = typeof(RoomReplies.Done),
        ["room.message.v1"] = typeof(ChatMessage),
        ["room.get-member-count.v1"] = typeof(RoomQueries.GetMemberCount),
        ["room.member-count.v1"] = typeof(RoomQueries.MemberCount),
        ["room.member-joined.v1"] = typeof(RoomEvents.MemberJoined),
        ["room.member-left.v1"] = typeof(RoomEvents.MemberLeft),
        ["room.member-rebound.v1"] = typeof(RoomEvents.MemberRebound),
        ["room.member-renamed.v1"] = typeof(RoomEvents.MemberRenamed),
        ["room.message-posted.v1"] = typeof(RoomEvents.MessagePosted),
        ["room.snapshot.v1"] = typeof(RoomEvents.RoomSnapshot),
        ["name.claim.v1"] = typeof(NameCommands.Claim),
        ["name.release.v1"] = typeof(NameCommands.Release),
        ["name.claim-result.v1"] = typeof(NameReplies.ClaimResult),
        ["name.released.v1"] = typeof(NameReplies.Released),
        ["name.claimed.v1"] = typeof(NameEvents.Claimed),
        ["name.freed.v1"] = typeof(NameEvents.Freed),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<Type, string> ManifestByType =
        Contracts.ToFrozenDictionary(pair => pair.Value, pair => pair.Key);

    private readonly JsonSerializerOptions _options;

    public WireSerializer(ExtendedActorSystem system) : base(system)
    {
        _options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Converters = { new ActorRefConverter(system) },
        };
    }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        ManifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} has no wire manifest; add it to {nameof(WireSerializer)}.{nameof(Contracts)}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Contracts.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, _options)
              ?? throw new System.Runtime.Serialization.SerializationException($"Empty payload for {manifest}")
            : throw new System.Runtime.Serialization.SerializationException($"Unknown wire manifest '{manifest}'");

    /// <summary>Actor references travel as their full path (with address and uid), as Akka's own serializers do.</summary>
    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            system.Provider.ResolveActorRef(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }
}
