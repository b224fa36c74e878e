using System.Net;
using System.Net.Sockets;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;
using SocketStarter.Gateway.Frontend;

namespace SocketStarter.Samples.Chat.Mqtt;

/// <summary>
/// The MQTT TCP listener, in place of MQTTnet's own: it binds exactly one address, and it refuses a packet whose
/// fixed header announces more than <see cref="MaxPacketBytes"/>. MQTTnet allocates a packet's whole body as soon as
/// it has read the header, so five bytes claiming 256 MB would cost 256 MB before a single check of ours could run.
/// </summary>
public sealed class MqttListener(IPEndPoint endpoint) : IMqttServerAdapter
{
    /// <summary>A 64 KiB payload (the frame limit of every protocol) with room for topic, properties and a JWT password.</summary>
    public const int MaxPacketBytes = FrontendSettings.MaxFrameBytes + 8 * 1024;

    private TcpListener? _listener;
    private readonly CancellationTokenSource _stopping = new();

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        _listener = new TcpListener(endpoint);
        _listener.Start(options.DefaultEndpointOptions.ConnectionBacklog);
        _ = AcceptAsync(options, logger);
        return Task.CompletedTask;
    }

    public Task StopAsync()
    {
        _stopping.Cancel();
        _listener?.Stop();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener?.Dispose();
    }

    private async Task AcceptAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                continue;
            }
            _ = ServeAsync(socket, options, logger);
        }
    }

    private async Task ServeAsync(Socket socket, MqttServerOptions options, IMqttNetLogger logger)
    {
        socket.NoDelay = options.DefaultEndpointOptions.NoDelay;
        await using var stream = new MqttPacketSizeLimit(new NetworkStream(socket, ownsSocket: true), MaxPacketBytes);
        var channel = new MqttTcpChannel(stream, socket.LocalEndPoint, socket.RemoteEndPoint, null);
        using var adapter = new MqttChannelAdapter(channel,
            new MqttPacketFormatterAdapter(new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax)), logger);
        try
        {
            if (ClientHandler is { } handler) await handler(adapter);
        }
        catch (Exception)
        {
            // The client's connection failed or was refused (an oversized packet): MQTTnet has logged it; others go on.
        }
    }
}

/// <summary>
/// Reads MQTT packets' fixed headers as they pass and fails the read that completes one announcing more than
/// <paramref name="maxPacketBytes"/>, before the parser above it sees the length.
/// </summary>
public sealed class MqttPacketSizeLimit(Stream inner, int maxPacketBytes) : Stream
{
    private enum Part { Type, Length, Body }

    private Part _part = Part.Type;
    private long _length;
    private int _lengthBytes;
    private long _bodyLeft;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Inspect(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Inspect(buffer.AsSpan(offset, read));
        return read;
    }

    private void Inspect(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length;)
        {
            switch (_part)
            {
                case Part.Type:
                    (_part, _length, _lengthBytes) = (Part.Length, 0, 0);
                    i++;
                    break;
                case Part.Length:
                    var b = bytes[i++];
                    _length |= (long)(b & 0x7F) << (7 * _lengthBytes++);
                    if (_length > maxPacketBytes)
                        throw new IOException($"An MQTT packet of {_length} bytes is over the {maxPacketBytes}-byte limit");
                    if ((b & 0x80) != 0) continue;
                    _bodyLeft = _length;
                    _part = _bodyLeft == 0 ? Part.Type : Part.Body;
                    break;
                default:
                    var skip = (int)Math.Min(_bodyLeft, bytes.Length - i);
                    i += skip;
                    _bodyLeft -= skip;
                    if (_bodyLeft == 0) _part = Part.Type;
                    break;
            }
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
