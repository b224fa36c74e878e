using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// The upgraded connection's stream under a client's WebSocket, able to gather the frames of one drain into one
/// write. Each WebSocket send is a write to the stream, and Kestrel turns each into a pipe write and a flush that
/// wakes its socket sender: a room's batch of six messages cost six of each per member (a profile at 1000 × 6 found
/// the writers' flushes a sixth of the frontend's CPU). While <see cref="Hold"/> is on, writes are copied into one
/// pooled buffer; the first write after <see cref="WriteHeldWithNext"/> goes out together with them. That last write
/// is made by the WebSocket itself, under its own send lock, so no write of its own (a pong, a keep-alive ping, a
/// close) can interleave with the held bytes: one it makes while they are held is held with them, in order.
/// </summary>
public sealed class CoalescingStream(Stream inner) : Stream
{
    /// <summary>Writes gathered so far, from the pool; none while nothing is held (an idle connection holds no buffer).</summary>
    private byte[]? _held;
    private int _heldLength;
    private bool _holding;
    private readonly Lock _lock = new();

    /// <summary>From now on writes are gathered, until the write that follows <see cref="WriteHeldWithNext"/>.</summary>
    public void Hold()
    {
        lock (_lock) _holding = true;
    }

    /// <summary>The next write takes what is held along with it, in one write to the connection.</summary>
    public void WriteHeldWithNext()
    {
        lock (_lock) _holding = false;
    }

    /// <summary>The connection failed while writes were held: they will never be written.</summary>
    public void DropHeld()
    {
        lock (_lock)
        {
            _holding = false;
            ReturnHeld();
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_holding || _held is not null)
            {
                Append(buffer.Span);
                if (_holding) return ValueTask.CompletedTask;
            }
            else
                return inner.WriteAsync(buffer, cancellationToken);
        }
        return WriteHeldAsync(cancellationToken);
    }

    private async ValueTask WriteHeldAsync(CancellationToken cancellationToken)
    {
        byte[] held;
        int length;
        lock (_lock)
        {
            (held, length) = (_held!, _heldLength);
            (_held, _heldLength) = (null, 0);
        }
        try
        {
            await inner.WriteAsync(held.AsMemory(0, length), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(held);
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_held is null) _held = ArrayPool<byte>.Shared.Rent(Math.Max(InitialHeldBytes, bytes.Length));
        else if (_held.Length - _heldLength < bytes.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_held.Length * 2, _heldLength + bytes.Length));
            _held.AsSpan(0, _heldLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_held);
            _held = bigger;
        }
        bytes.CopyTo(_held.AsSpan(_heldLength));
        _heldLength += bytes.Length;
    }

    private void ReturnHeld()
    {
        if (_held is not null) ArrayPool<byte>.Shared.Return(_held);
        (_held, _heldLength) = (null, 0);
    }

    /// <summary>A few dozen chat frames.</summary>
    private const int InitialHeldBytes = 8 * 1024;

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropHeld();
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        DropHeld();
        await inner.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Gives an upgraded connection a <see cref="CoalescingStream"/>: installed before ASP.NET Core's WebSocket middleware,
/// which takes the upgrade feature it finds when the request passes it.
/// </summary>
public sealed class CoalescingUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    /// <summary>The upgraded connection's stream, once upgraded.</summary>
    public CoalescingStream? Stream { get; private set; }

    public async Task<Stream> UpgradeAsync() => Stream = new CoalescingStream(await inner.UpgradeAsync());
}

public static class CoalescingStreamExtensions
{
    /// <summary>Before <c>UseWebSockets</c>: the gateway's WebSockets can then write a drain's frames at once.</summary>
    public static IApplicationBuilder UseCoalescedWebSocketWrites(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
            context.Features.Set<IHttpUpgradeFeature>(new CoalescingUpgradeFeature(upgrade));
        return next(context);
    });
}
