using System.Net;

namespace Samsa.Broker.Network;

/// <summary>
/// max.connections and max.connections.per.ip, as Kafka's ConnectionQuotas applies them: at the
/// broker-wide limit the acceptor waits for a connection to close (new clients queue in the
/// listen backlog), while a client address over its own limit has the new connection closed at
/// once, so one noisy host cannot take every slot.
/// </summary>
internal sealed class ConnectionQuotas(int maxConnections, int maxPerIp) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(maxConnections, maxConnections);
    private readonly Dictionary<IPAddress, int> _perIp = [];
    private readonly Lock _lock = new();
    private long _refused;

    /// <summary>New connections closed because their address was over max.connections.per.ip.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Waits for a free slot under max.connections; each slot is given back by <see cref="Release"/>.</summary>
    public Task WaitForSlotAsync(CancellationToken token) => _slots.WaitAsync(token);

    /// <summary>Gives a slot back without a connection (the accept failed).</summary>
    public void ReturnSlot() => _slots.Release();

    /// <summary>Counts a new connection from <paramref name="address"/>; false (and the slot returned) when over its limit.</summary>
    public bool TryAdmit(IPAddress? address)
    {
        if (address is not null)
        {
            lock (_lock)
            {
                int count = _perIp.GetValueOrDefault(address);
                if (count >= maxPerIp)
                {
                    Interlocked.Increment(ref _refused);
                    _slots.Release();
                    return false;
                }
                _perIp[address] = count + 1;
            }
        }
        return true;
    }

    /// <summary>A connection admitted by <see cref="TryAdmit"/> closed.</summary>
    public void Release(IPAddress? address)
    {
        if (address is not null)
        {
            lock (_lock)
            {
                int count = _perIp.GetValueOrDefault(address) - 1;
                if (count <= 0)
                    _perIp.Remove(address);
                else
                    _perIp[address] = count;
            }
        }
        try
        {
            _slots.Release();
        }
        catch (ObjectDisposedException)
        {
            // A connection that outlived the broker's shutdown: nobody waits for its slot.
        }
    }

    public void Dispose() => _slots.Dispose();
}
