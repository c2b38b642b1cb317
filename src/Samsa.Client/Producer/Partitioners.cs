namespace Samsa.Client.Producer;

/// <summary>
/// Picks a partition for a keyed record. Keyless records go to a "sticky" partition chosen by the
/// producer (KIP-480: one partition until its batch is sent, then another), except with
/// librdkafka's consistent_random, which picks one at random per record.
/// </summary>
public enum Partitioner
{
    /// <summary>Kafka's Java default: murmur2 of the key, so keys land where Java producers put them.</summary>
    Murmur2,

    /// <summary>librdkafka's default (consistent_random): CRC32 of the key, as Confluent.Kafka places keys.</summary>
    Crc32,
}

/// <summary>The key hashes the partitioners use, public so that an application can compute where a key lands.</summary>
public static class PartitionHash
{
    /// <summary>Kafka's murmur2 (the Java client's Utils.murmur2), seed 0x9747b28c.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        uint h = 0x9747b28c ^ (uint)data.Length;
        int whole = data.Length & ~3;
        for (int i = 0; i < whole; i += 4)
        {
            uint k = data[i] | ((uint)data[i + 1] << 8) | ((uint)data[i + 2] << 16) | ((uint)data[i + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        switch (data.Length & 3)
        {
            case 3:
                h ^= (uint)data[whole + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[whole + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[whole];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }

    private static readonly uint[] Crc32Table = BuildCrc32Table();

    /// <summary>CRC-32 (IEEE, as zlib's crc32), what librdkafka's consistent partitioner hashes keys with.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
            crc = Crc32Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildCrc32Table()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }

    /// <summary>The partition of a keyed record: Java's <c>toPositive(murmur2(key)) % n</c>, or librdkafka's <c>crc32(key) % n</c>.</summary>
    public static int PartitionFor(Partitioner partitioner, ReadOnlySpan<byte> key, int partitions) => partitioner switch
    {
        Partitioner.Murmur2 => (Murmur2(key) & 0x7fffffff) % partitions,
        _ => (int)(Crc32(key) % (uint)partitions),
    };
}
