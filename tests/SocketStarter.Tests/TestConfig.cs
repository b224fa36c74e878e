using Akka.Configuration;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;

namespace SocketStarter.Tests;

public static class TestConfig
{
    /// <summary>In-memory journal, and every wire message through the real serializer, as between nodes.</summary>
    public static readonly Config Persistent = ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        akka.actor.serialize-messages = on
        akka.actor.serializers.wire = "{{typeof(WireSerializer).AssemblyQualifiedName}}"
        akka.actor.serialization-bindings { "{{typeof(IWireMessage).AssemblyQualifiedName}}" = wire }
        akka.actor.serialization-identifiers { "{{typeof(WireSerializer).AssemblyQualifiedName}}" = {{WireSerializer.SerializerId}} }
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """);
}
