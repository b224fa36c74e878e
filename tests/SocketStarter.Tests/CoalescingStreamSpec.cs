using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using SocketStarter.Gateway.Frontend.Connections;

namespace SocketStarter.Tests;

public sealed class CoalescingStreamSpec
{
    [Fact]
    public async Task A_drain_of_several_frames_reaches_the_client_in_one_write_and_in_order()
    {
        var (server, client, connection) = WebSocketPair();
        var channel = new WebSocketChannel(server, connection.Coalescing);

        await channel.WriteAsync(Frames("{\"seq\":1}", "{\"seq\":2}", "{\"seq\":3}"));
        await channel.WriteAsync(Frames("{\"seq\":4}"));

        Assert.Equal(["{\"seq\":1}", "{\"seq\":2}", "{\"seq\":3}", "{\"seq\":4}"], await Receive(client, 4));
        Assert.Equal(2, connection.Writes);
    }

    [Fact]
    public async Task A_write_of_the_socket_itself_while_frames_are_held_goes_out_with_them_in_order()
    {
        var connection = new RecordingConnection();
        connection.Coalescing.Hold();
        await connection.Coalescing.WriteAsync("a"u8.ToArray());
        await connection.Coalescing.WriteAsync("pong"u8.ToArray());
        Assert.Equal(0, connection.Writes);
        connection.Coalescing.WriteHeldWithNext();
        await connection.Coalescing.WriteAsync("b"u8.ToArray());
        await connection.Coalescing.WriteAsync("close"u8.ToArray());

        Assert.Equal(2, connection.Writes);
        Assert.Equal("apongbclose", connection.Written);
    }

    [Fact]
    public async Task Frames_held_when_the_connection_fails_are_never_written()
    {
        var connection = new RecordingConnection();
        connection.Coalescing.Hold();
        await connection.Coalescing.WriteAsync("lost"u8.ToArray());
        connection.Coalescing.DropHeld();
        await connection.Coalescing.WriteAsync("close"u8.ToArray());

        Assert.Equal("close", connection.Written);
    }

    private static ReadOnlyMemory<ReadOnlyMemory<byte>> Frames(params string[] frames) =>
        frames.Select(frame => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(frame)).ToArray();

    private static async Task<List<string>> Receive(WebSocket client, int count)
    {
        var received = new List<string>();
        var buffer = new byte[1024];
        while (received.Count < count)
        {
            var result = await client.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            received.Add(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        return received;
    }

    /// <summary>A server WebSocket over a coalescing stream and a client WebSocket at the other end of the connection.</summary>
    private static (WebSocket Server, WebSocket Client, RecordingConnection Connection) WebSocketPair()
    {
        var toServer = new Pipe();
        var connection = new RecordingConnection(toServer.Reader.AsStream());
        var server = WebSocket.CreateFromStream(connection.Coalescing, new WebSocketCreationOptions { IsServer = true });
        var toClient = toServer.Writer.AsStream();
        var client = WebSocket.CreateFromStream(new Duplex(connection.ToClient.Reader.AsStream(), toClient.WriteAsync),
            new WebSocketCreationOptions { IsServer = false });
        return (server, client, connection);
    }

    /// <summary>The server's end of a connection: counts the writes that reach it, under a <see cref="CoalescingStream"/>.</summary>
    private sealed class RecordingConnection
    {
        private readonly MemoryStream _written = new();

        public RecordingConnection(Stream? fromClient = null) =>
            Coalescing = new CoalescingStream(new Duplex(fromClient ?? Stream.Null, async (buffer, cancellationToken) =>
            {
                Writes++;
                _written.Write(buffer.Span);
                await ToClient.Writer.WriteAsync(buffer, cancellationToken);
            }));

        public CoalescingStream Coalescing { get; }
        public Pipe ToClient { get; } = new();
        public int Writes { get; private set; }
        public string Written => Encoding.UTF8.GetString(_written.ToArray());
    }

    /// <summary>One end of a connection: reads from <paramref name="read"/>, writes through <paramref name="write"/>.</summary>
    private sealed class Duplex(Stream read, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write) : Stream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => read.ReadAsync(buffer, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => write(buffer, cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) => write(buffer.AsMemory(offset, count), default).AsTask().Wait();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
