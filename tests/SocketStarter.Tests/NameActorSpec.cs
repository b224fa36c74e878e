using Akka.Actor;
using SocketStarter.Samples.Chat;
using SocketStarter.Messages;

namespace SocketStarter.Tests;

public sealed class NameActorSpec() : Akka.TestKit.Xunit2.TestKit(TestConfig.Persistent)
{
    [Fact]
    public void A_name_has_one_owner_until_released_even_across_restarts()
    {
        var key = $"n{Guid.NewGuid():N}"[..20];
        var name = Sys.ActorOf(NameActor.Props(key));
        name.Tell(new NameCommands.Claim(key, "s1", 1));
        Assert.True(ExpectMsg<NameReplies.ClaimResult>().Granted);
        name.Tell(new NameCommands.Claim(key, "s1", 2));
        Assert.True(ExpectMsg<NameReplies.ClaimResult>().Granted);
        name.Tell(new NameCommands.Claim(key, "s2", 3));
        Assert.False(ExpectMsg<NameReplies.ClaimResult>().Granted);

        Watch(name);
        Sys.Stop(name);
        ExpectTerminated(name);
        var revived = Sys.ActorOf(NameActor.Props(key));
        revived.Tell(new NameCommands.Claim(key, "s2", 4));
        Assert.False(ExpectMsg<NameReplies.ClaimResult>().Granted);

        revived.Tell(new NameCommands.Release(key, "s2", 5));
        ExpectMsg<NameReplies.Released>();
        revived.Tell(new NameCommands.Release(key, "s1", 6));
        ExpectMsg<NameReplies.Released>();
        revived.Tell(new NameCommands.Claim(key, "s2", 7));
        Assert.True(ExpectMsg<NameReplies.ClaimResult>().Granted);
    }
}
