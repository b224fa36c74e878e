using Akka.Actor;

namespace SocketStarter.Tests;

/// <summary>A frontend fan-out as the state types' events hold it: only its path matters to the rules.</summary>
internal sealed class FrontendRef(string name) : MinimalActorRef
{
    public override ActorPath Path { get; } = new RootActorPath(new Address("akka", "test")) / "user" / name;
    public override IActorRefProvider Provider => throw new NotSupportedException();
}
