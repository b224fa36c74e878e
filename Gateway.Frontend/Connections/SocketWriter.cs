using System.Net.WebSockets;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// Everything that goes to one client, in order. Whoever has a frame queues it directly (the fan-out for topic
/// frames, the connection actor for its own answers): no actor message and no stream element per delivery. One
/// drain at a time writes all that is queued and then stops, so an idle connection holds no task, timer or buffer.
/// The queue is bounded: a client that reads too slowly to keep it below the limit is closed with
/// <see cref="CloseCodes.TryAgainLater"/> rather than let the queue grow; it can resume and catch up with <c>since</c>.
/// </summary>
public sealed class SocketWriter : IThreadPoolWorkItem
{
    public enum End { Closed, Overflowed, Failed }

    private readonly IClientChannel _channel;
    private readonly int _limit;
    private readonly Queue<Item> _queue = new();
    private readonly TaskCompletionSource<End> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _frames;
    private bool _draining;
    /// <summary>A close was queued, the queue overflowed or a write failed: nothing more is taken.</summary>
    private bool _ended;

    /// <summary>A frame (with the receipt told once it is written, if any), a close, or a frame-less marker that completes
    /// <see cref="Done"/> once what was queued before it is written.</summary>
    private readonly record struct Item(ReadOnlyMemory<byte> Frame, (WebSocketCloseStatus Status, string Reason)? Close = null,
        TaskCompletionSource<bool>? Done = null, bool Applied = false, DeliveryReceipt? Receipt = null)
    {
        /// <summary>Only frames count against the limit: a close or a marker is always taken.</summary>
        public bool IsFrame => Close is null && Done is null;
    }

    public SocketWriter(IClientChannel channel, int limit)
    {
        _channel = channel;
        _limit = limit;
    }

    /// <summary>Completes when the writer takes nothing more: the close was written, the queue overflowed, or the socket failed.</summary>
    public Task<End> Finished => _finished.Task;

    /// <summary>Queues one encoded frame; false if the writer has ended (or ends now, because the queue is full).
    /// <paramref name="receipt"/>, if given, is told once the frame is written, or dropped unwritten.</summary>
    public bool TryWrite(ReadOnlyMemory<byte> frame, DeliveryReceipt? receipt = null) => Enqueue(new Item(frame, Receipt: receipt));

    /// <summary>Completes <paramref name="done"/> with <paramref name="applied"/> after every frame queued before it is written.</summary>
    public void After(TaskCompletionSource<bool> done, bool applied)
    {
        if (!Enqueue(new Item(default, Done: done, Applied: applied))) done.TrySetResult(applied);
    }

    /// <summary>Closes the socket after what is queued; frames queued later are dropped.</summary>
    public void Close(WebSocketCloseStatus status, string reason) => Enqueue(new Item(default, Close: (status, reason)));

    /// <summary>Queues the item and starts a drain if none runs; false if the writer has ended or a frame overflows it.</summary>
    private bool Enqueue(Item item)
    {
        bool start, overflowed = false;
        lock (_queue)
        {
            if (_ended) return false;
            if (item.IsFrame && _frames >= _limit)
            {
                _ended = overflowed = true;
                start = false;
            }
            else
            {
                _queue.Enqueue(item);
                if (item.IsFrame) _frames++;
                // A queued close ends the writer at once: nothing queued after it would be written.
                if (item.Close is not null) _ended = true;
                start = !_draining;
                _draining = true;
            }
        }
        if (overflowed)
        {
            _ = CloseForOverflow();
            return false;
        }
        if (start) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return true;
    }

    /// <summary>Closes at once, beside a write that the client may never let finish.</summary>
    private async Task CloseForOverflow()
    {
        CompleteDropped(TakeQueued());
        await _channel.CloseAsync(CloseCodes.TryAgainLater, "Client too slow; resume to catch up");
        _finished.TrySetResult(End.Overflowed);
    }

    /// <summary>On a pool thread, not the caller's: a fan-out to a hundred members runs its writes in parallel.</summary>
    void IThreadPoolWorkItem.Execute() => _ = Drain();

    private async Task Drain()
    {
        while (true)
        {
            Item item;
            lock (_queue)
            {
                if (!_queue.TryDequeue(out item))
                {
                    _draining = false;
                    return;
                }
                if (item.IsFrame) _frames--;
            }
            try
            {
                if (item.Done is { } done)
                    done.TrySetResult(item.Applied);
                else if (item.Close is { } close)
                {
                    await _channel.CloseAsync(close.Status, close.Reason);
                    _finished.TrySetResult(End.Closed);
                }
                else
                {
                    await _channel.WriteAsync(item.Frame);
                    item.Receipt?.Written();
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                lock (_queue)
                {
                    _ended = true;
                    _draining = false;
                }
                item.Receipt?.Written();
                CompleteDropped(TakeQueued());
                _finished.TrySetResult(End.Failed);
                return;
            }
        }
    }

    /// <summary>Once ended: what is still queued will never be written.</summary>
    private List<Item> TakeQueued()
    {
        lock (_queue)
        {
            var dropped = _queue.ToList();
            _queue.Clear();
            _frames = 0;
            return dropped;
        }
    }

    /// <summary>Frames are dropped (their receipts told: they will not be written); waiting markers are completed, outside the lock.</summary>
    private static void CompleteDropped(List<Item> dropped)
    {
        foreach (var item in dropped)
        {
            item.Done?.TrySetResult(item.Applied);
            item.Receipt?.Written();
        }
    }
}
