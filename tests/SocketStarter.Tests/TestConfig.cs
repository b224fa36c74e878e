using Akka.Configuration;
using SocketStarter.Messages;
using SocketStarter.Messages.Serialization;
using SocketStarter.Samples.Chat;
using SocketStarter.Samples.Poll;

namespace SocketStarter.Tests;

public static class TestConfig
{
    /// <summary>In-memory journal, and every wire message through the real serializers, as between nodes.</summary>
    public static readonly Config Persistent = ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        # The default 3 s was seen to run out on a loaded 2-core machine (a fresh room's first join, 1 run in 9);
        # waiting longer for an expected message weakens no assertion.
        akka.test.single-expect-default = 10s
        akka.actor.serialize-messages = on
        akka.actor.serializers.wire = "{{typeof(WireSerializer).AssemblyQualifiedName}}"
        akka.actor.serializers.chat = "{{typeof(ChatSerializer).AssemblyQualifiedName}}"
        akka.actor.serializers.poll = "{{typeof(PollSerializer).AssemblyQualifiedName}}"
        akka.actor.serialization-bindings {
          "{{typeof(IWireMessage).AssemblyQualifiedName}}" = wire
          "{{typeof(IChatContract).AssemblyQualifiedName}}" = chat
          "{{typeof(IPollContract).AssemblyQualifiedName}}" = poll
        }
        akka.actor.serialization-identifiers {
          "{{typeof(WireSerializer).AssemblyQualifiedName}}" = {{WireSerializer.SerializerId}}
          "{{typeof(ChatSerializer).AssemblyQualifiedName}}" = {{ChatSerializer.SerializerId}}
          "{{typeof(PollSerializer).AssemblyQualifiedName}}" = {{PollSerializer.SerializerId}}
        }
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """);
}
