using Akka.Configuration;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;
using SocketStarter.Samples.Chat;
using SocketStarter.Samples.Poll;

namespace SocketStarter.Tests;

public static class TestConfig
{
    /// <summary>A serializer the nodes load: its name in config, its id, the marker interface bound to it, its manifests.</summary>
    public sealed record SerializerEntry(string Name, Type Type, int Id, Type Marker, IReadOnlyDictionary<string, Type> Contracts);

    /// <summary>Every serializer the hosts load: the gateway's and each sample application's.</summary>
    public static readonly IReadOnlyList<SerializerEntry> Serializers =
    [
        new("wire", typeof(WireSerializer), WireSerializer.SerializerId, typeof(IWireMessage), WireSerializer.Contracts),
        new("chat", typeof(ChatSerializer), ChatSerializer.SerializerId, typeof(IChatContract), ChatSerializer.Contracts),
        new("poll", typeof(PollSerializer), PollSerializer.SerializerId, typeof(IPollContract), PollSerializer.Contracts),
    ];

    /// <summary>The serializer a message or a stored manifest belongs to.</summary>
    public static SerializerEntry SerializerOf(object message) => Serializers.Single(s => s.Marker.IsInstanceOfType(message));
    public static SerializerEntry SerializerOf(string manifest) => Serializers.Single(s => s.Contracts.ContainsKey(manifest));

    /// <summary>In-memory journal, and every wire message through the real serializers, as between nodes.</summary>
    public static readonly Config Persistent = ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        # The default 3 s was seen to run out on a loaded 2-core machine (a fresh room's first join, 1 run in 9);
        # waiting longer for an expected message weakens no assertion.
        akka.test.single-expect-default = 10s
        akka.actor.serialize-messages = on
        {{string.Join('\n', Serializers.Select(s => $"akka.actor.serializers.{s.Name} = \"{s.Type.AssemblyQualifiedName}\""))}}
        akka.actor.serialization-bindings {
          {{string.Join('\n', Serializers.Select(s => $"\"{s.Marker.AssemblyQualifiedName}\" = {s.Name}"))}}
        }
        akka.actor.serialization-identifiers {
          {{string.Join('\n', Serializers.Select(s => $"\"{s.Type.AssemblyQualifiedName}\" = {s.Id}"))}}
        }
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """);
}
