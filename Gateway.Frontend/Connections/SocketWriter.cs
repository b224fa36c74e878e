using System.Buffers;
using System.Net.WebSockets;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// Everything that goes to one client, in order. Whoever has a frame queues it directly (the fan-out for topic
/// frames, the connection actor for its own answers): no actor message and no stream element per delivery. One
/// drain at a time takes what is queued and writes its frames together (one write to the client, where the channel
/// can), until nothing is left; then it stops, so an idle connection holds no task, timer or buffer.
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
    public bool TryWrite(ReadOnlyMemory<byte> frame, DeliveryReceipt? receipt = null) =>
        TryWrite(new ReadOnlySpan<ReadOnlyMemory<byte>>(in frame), receipt);

    /// <summary>Queues encoded frames in order, at once (a topic's batch); false if the writer has ended, or ends now
    /// because they do not fit. <paramref name="receipt"/>, if given, is told once the last is written, or dropped.</summary>
    public bool TryWrite(ReadOnlySpan<ReadOnlyMemory<byte>> frames, DeliveryReceipt? receipt = null)
    {
        bool start, overflowed = false;
        lock (_queue)
        {
            if (_ended) return false;
            if (_frames + frames.Length > _limit)
            {
                _ended = overflowed = true;
                start = false;
            }
            else
            {
                for (var i = 0; i < frames.Length; i++)
                    _queue.Enqueue(new Item(frames[i], Receipt: i == frames.Length - 1 ? receipt : null));
                _frames += frames.Length;
                start = !_draining;
                _draining = true;
            }
        }
        return Started(start, overflowed);
    }

    /// <summary>Completes <paramref name="done"/> with <paramref name="applied"/> after every frame queued before it is written.</summary>
    public void After(TaskCompletionSource<bool> done, bool applied)
    {
        if (!Enqueue(new Item(default, Done: done, Applied: applied))) done.TrySetResult(applied);
    }

    /// <summary>Closes the socket after what is queued; frames queued later are dropped.</summary>
    public void Close(WebSocketCloseStatus status, string reason) => Enqueue(new Item(default, Close: (status, reason)));

    /// <summary>Queues a close or a marker and starts a drain if none runs; false if the writer has ended.</summary>
    private bool Enqueue(Item item)
    {
        bool start;
        lock (_queue)
        {
            if (_ended) return false;
            _queue.Enqueue(item);
            // A queued close ends the writer at once: nothing queued after it would be written.
            if (item.Close is not null) _ended = true;
            start = !_draining;
            _draining = true;
        }
        return Started(start, overflowed: false);
    }

    private bool Started(bool start, bool overflowed)
    {
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

    /// <summary>At most this many frames go to the client in one write: a long queue is written in bounded pieces.</summary>
    private const int FramesPerWrite = 64;

    private async Task Drain()
    {
        while (true)
        {
            Item item;
            Item[]? run = null;
            var count = 1;
            lock (_queue)
            {
                if (!_queue.TryDequeue(out item))
                {
                    _draining = false;
                    return;
                }
                if (item.IsFrame)
                {
                    _frames--;
                    // The frames queued behind it go in the same write; a lone frame (an idle client's) needs no array.
                    if (_queue.TryPeek(out var next) && next.IsFrame)
                    {
                        var most = Math.Min(_queue.Count + 1, FramesPerWrite);
                        run = ArrayPool<Item>.Shared.Rent(most);
                        run[0] = item;
                        while (count < most && _queue.TryPeek(out next) && next.IsFrame)
                        {
                            run[count++] = _queue.Dequeue();
                            _frames--;
                        }
                    }
                }
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
                else if (run is null)
                {
                    await _channel.WriteAsync(item.Frame);
                    item.Receipt?.Written();
                }
                else
                    await WriteRun(run, count);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                lock (_queue)
                {
                    _ended = true;
                    _draining = false;
                }
                CompleteDropped(run is null ? [item] : run.Take(count));
                CompleteDropped(TakeQueued());
                _finished.TrySetResult(End.Failed);
                return;
            }
            finally
            {
                if (run is not null) ArrayPool<Item>.Shared.Return(run, clearArray: true);
            }
        }
    }

    private async Task WriteRun(Item[] run, int count)
    {
        var frames = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(count);
        try
        {
            for (var i = 0; i < count; i++) frames[i] = run[i].Frame;
            await _channel.WriteAsync(frames.AsMemory(0, count));
        }
        finally
        {
            ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(frames, clearArray: true);
        }
        for (var i = 0; i < count; i++) run[i].Receipt?.Written();
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
    private static void CompleteDropped(IEnumerable<Item> dropped)
    {
        foreach (var item in dropped)
        {
            item.Done?.TrySetResult(item.Applied);
            item.Receipt?.Written();
        }
    }
}
