using SocketStarter.Samples.Chat.Mqtt;

namespace SocketStarter.Tests;

public sealed class MqttPacketSizeLimitSpec
{
    private static async Task<int> ReadAllAsync(byte[] bytes, int limit, int chunk)
    {
        await using var stream = new MqttPacketSizeLimit(new MemoryStream(bytes), limit);
        var buffer = new byte[chunk];
        int read, total = 0;
        while ((read = await stream.ReadAsync(buffer)) > 0) total += read;
        return total;
    }

    /// <summary>A PUBLISH-like packet: type byte, remaining length as MQTT's variable byte integer, body.</summary>
    private static byte[] Packet(int bodyLength)
    {
        var header = new List<byte> { 0x30 };
        var length = bodyLength;
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            header.Add(length > 0 ? (byte)(digit | 0x80) : digit);
        } while (length > 0);
        return [.. header, .. new byte[bodyLength]];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Packets_within_the_limit_pass_whole_however_they_are_split(int chunk)
    {
        byte[] stream = [.. Packet(0), .. Packet(127), .. Packet(128), .. Packet(1000)];
        Assert.Equal(stream.Length, await ReadAllAsync(stream, limit: 1000, chunk));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task A_header_announcing_more_than_the_limit_fails_before_its_body_is_read(int chunk)
    {
        byte[] stream = [.. Packet(10), 0x30, 0xFF, 0xFF, 0xFF, 0x7F]; // 10 bytes, then a claim of 256 MB
        var error = await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(stream, limit: 1000, chunk));
        Assert.Contains("over the 1000-byte limit", error.Message);
    }
}
