using System.Collections.Concurrent;
using System.Net;

namespace SocketStarter.Gateway.Frontend.Connections;

/// <summary>
/// Open connections per client address, WebSocket and MQTT together: one address cannot take every socket (nor,
/// since each connection holds one name, every name). A slot is taken before a connection is accepted and given
/// back when it ends.
/// </summary>
public sealed class AddressLimit(FrontendSettings settings)
{
    private readonly ConcurrentDictionary<IPAddress, int> _open = new();

    public bool TryTake(IPAddress? address)
    {
        if (address is null) return true; // not a network client (in-process test server)
        var key = Key(address);
        while (true)
        {
            var count = _open.GetOrAdd(key, 0);
            if (count >= settings.MaxConnectionsPerAddress) return false;
            if (_open.TryUpdate(key, count + 1, count)) return true;
        }
    }

    public void Release(IPAddress? address)
    {
        if (address is null) return;
        var key = Key(address);
        while (_open.TryGetValue(key, out var count))
        {
            if (count <= 1 ? _open.TryRemove(new KeyValuePair<IPAddress, int>(key, count)) : _open.TryUpdate(key, count - 1, count)) return;
        }
    }

    /// <summary>An IPv4 client reaching a dual-stack socket is the same address as over IPv4.</summary>
    private static IPAddress Key(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
