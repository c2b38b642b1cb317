namespace Samsa.Broker.Topics;

/// <summary>
/// How many partitions this broker may hold. Every partition keeps at least one segment file open,
/// so past the process's open-file limit a broker can no longer open files or accept connections,
/// and would die the same way at every start (it opens every partition then). The default leaves
/// half the limit, less a reserve for sockets and the runtime, to partitions.
/// </summary>
internal static class PartitionCeiling
{
    /// <summary>Kafka's cap on the partitions one CreateTopics or CreatePartitions request may add (KRaft's MAX_PARTITIONS_PER_BATCH).</summary>
    public const int PerRequest = 10_000;

    private const int Reserve = 1024;
    private const int Fallback = 10_000;

    public static int For(BrokerOptions options) => options.MaxPartitions ?? FromOpenFileLimit(ReadOpenFileLimit());

    internal static int FromOpenFileLimit(long? limit) =>
        limit is not { } files ? Fallback : (int)Math.Clamp((files - Reserve) / 2, 100, 1_000_000);

    /// <summary>The soft RLIMIT_NOFILE from /proc/self/limits (Linux); null where it cannot be read or is unlimited.</summary>
    private static long? ReadOpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                    continue;
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out long soft) ? soft : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
