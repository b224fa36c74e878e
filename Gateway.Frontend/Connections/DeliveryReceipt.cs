using Akka.Actor;
using SocketStarter.Messages;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// Confirms a topic batch to its topic once every member's socket writer has written it; past
/// <see cref="SlowReaderGrace"/>, once all but a few slow readers have. A frontend that cannot write as fast as its
/// topics produce so holds the topics back (their window of unconfirmed batches fills, publishes wait unanswered,
/// and the senders' frames queue at their connections, where a frame that would wait too long is refused), rather
/// than its writers' queues growing for as long as the load lasts. A member that does not read holds its topics back
/// by the grace at most; its own queue fills and it is closed with 1013.
/// </summary>
public sealed class DeliveryReceipt
{
    public static readonly TimeSpan SlowReaderGrace = TimeSpan.FromMilliseconds(500);

    private readonly IActorRef _topic;
    private readonly IActorRef _fanout;
    private readonly TopicCommands.Delivered _delivered;
    /// <summary>Writes not yet done, plus one held by the fan-out while it queues the batch.</summary>
    private int _unwritten = 1;
    private int _expected;
    private int _confirmed;

    public DeliveryReceipt(IActorRef topic, IActorRef fanout, TopicCommands.Delivered delivered, DateTime now)
    {
        _topic = topic;
        _fanout = fanout;
        _delivered = delivered;
        Created = now;
    }

    public DateTime Created { get; }
    public bool Confirmed => Volatile.Read(ref _confirmed) == 1;

    /// <summary>Before a member's writer is given the batch's last frame.</summary>
    public void Expect()
    {
        Interlocked.Increment(ref _unwritten);
        _expected++; // only the fan-out calls this, on its own thread
    }

    /// <summary>Past the grace, the members still writing are a few slow readers (a tenth, or one), not a frontend
    /// that is behind as a whole: those no longer hold the topic back.</summary>
    public bool OnlySlowReadersLeft => Volatile.Read(ref _unwritten) <= Math.Max(1, _expected / MembersPerToleratedSlowReader);

    private const int MembersPerToleratedSlowReader = 10;

    /// <summary>A member's writer wrote the frame (or will never write it: it failed or was closed); the fan-out
    /// calls it too once the batch is queued everywhere.</summary>
    public void Written()
    {
        if (Interlocked.Decrement(ref _unwritten) == 0) Confirm();
    }

    public void Confirm()
    {
        if (Interlocked.Exchange(ref _confirmed, 1) == 0) _topic.Tell(_delivered, _fanout);
    }
}
