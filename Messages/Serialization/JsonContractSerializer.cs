using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace SocketStarter.Messages.Serialization;

/// <summary>
/// Serializes contracts as JSON under a short, stable string manifest. The manifest names the contract, not the CLR
/// type, and JSON tolerates added fields, so a newer node can read what an older one sent and what was persisted
/// before. A contract changed incompatibly gets a new manifest. The gateway's contracts use <see cref="WireSerializer"/>;
/// an application binds its own contracts to its own subclass, with its own identifier.
/// </summary>
public abstract class JsonContractSerializer : SerializerWithStringManifest
{
    private readonly FrozenDictionary<string, Type> _contracts;
    private readonly FrozenDictionary<Type, string> _manifestByType;
    private readonly JsonSerializerOptions _options;

    protected JsonContractSerializer(ExtendedActorSystem system, FrozenDictionary<string, Type> contracts) : base(system)
    {
        _contracts = contracts;
        _manifestByType = contracts.ToFrozenDictionary(pair => pair.Value, pair => pair.Key);
        _options = new JsonSerializerOptions
        {
            // Frames travel as JSON text inside these contracts: the default encoder writes each of their quotes as
            // \u0022 (and every non-ASCII character as \uXXXX): a 158-byte chat frame took 285 bytes instead of 185, on
            // every hop and journal row. The wire is read only by our own nodes, never embedded in HTML, so only JSON's
            // own escapes are needed.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Converters = { new ActorRefConverter(system) },
        };
    }

    public override string Manifest(object o) =>
        _manifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"{o.GetType()} has no manifest; add it to the contracts of {GetType().Name}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        _contracts.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, _options)
              ?? throw new System.Runtime.Serialization.SerializationException($"Empty payload for {manifest}")
            : throw new System.Runtime.Serialization.SerializationException($"Unknown manifest '{manifest}'");

    /// <summary>Actor references travel as their full path (with address and uid), as Akka's own serializers do.</summary>
    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            system.Provider.ResolveActorRef(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }
}
