using Akka.Actor;
using Akka.Dispatch;
using SocketStarter.Gateway.Frontend.Connections;

namespace SocketStarter.Tests;

/// <summary>The connections' mailbox keeps Akka's promises: messages in the order sent, from any thread, and what is
/// left when an actor stops goes to the dead letters.</summary>
public sealed class ConnectionMailboxSpec() : Akka.TestKit.Xunit2.TestKit($"akka.loglevel = WARNING\n{ConnectionMailbox.Hocon}")
{
    private sealed class Echo : ReceiveActor
    {
        public Echo(IActorRef probe) => Receive<int>(n => probe.Tell(n));
    }

    [Fact]
    public void An_actor_on_it_gets_each_senders_messages_in_the_order_sent()
    {
        var probe = CreateTestProbe();
        var actor = Sys.ActorOf(Props.Create(() => new Echo(probe.Ref)).WithDispatcher(ConnectionMailbox.DispatcherId));
        Parallel.For(0, 4, sender =>
        {
            for (var i = 0; i < 1000; i++) actor.Tell(sender * 10_000 + i);
        });
        var received = probe.ReceiveN(4000).Cast<int>().ToList();
        for (var sender = 0; sender < 4; sender++)
            Assert.Equal(Enumerable.Range(sender * 10_000, 1000), received.Where(n => n / 10_000 == sender));
    }

    [Fact]
    public void What_an_empty_queue_holds_is_nothing_and_what_is_left_at_clean_up_goes_to_the_dead_letters()
    {
        var queue = new ConnectionMailbox.Queue();
        Assert.False(queue.HasMessages);
        Assert.False(queue.TryDequeue(out _));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("a", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("b", ActorRefs.NoSender));
        Assert.Equal(2, queue.Count);

        var deadLetters = new ConnectionMailbox.Queue();
        queue.CleanUp(ActorRefs.Nobody, deadLetters);
        Assert.False(queue.HasMessages);
        Assert.True(deadLetters.TryDequeue(out var first));
        Assert.Equal("a", first.Message);
        Assert.True(deadLetters.TryDequeue(out var second));
        Assert.Equal("b", second.Message);
    }
}
