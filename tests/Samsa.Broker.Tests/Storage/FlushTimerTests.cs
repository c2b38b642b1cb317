using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Samsa.Broker.Tests.Storage;

/// <summary>flush.ms reaches a log that stopped receiving appends, through the broker's flush check timer.</summary>
public class FlushTimerTests
{
    [Fact]
    public async Task An_idle_logs_unflushed_batches_are_fsynced_once_they_are_flush_ms_old()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        string dir = Path.Combine(Path.GetTempPath(), "samsa-flush-" + Guid.NewGuid().ToString("N"));
        var broker = await SamsaBroker.StartAsync(new BrokerOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            DataDirectory = dir,
            OffsetsTopicPartitions = 1,
            TimeProvider = time,
            ShutdownTimeout = TimeSpan.Zero,
            FlushCheckInterval = TimeSpan.FromMilliseconds(200),
        });
        try
        {
            var (error, message, topic) = broker.Topics.Create("durable", 1, configs: new Dictionary<string, string?> { ["flush.ms"] = "1000" });
            Assert.True(topic is not null, $"{error}: {message}");
            var log = topic.Partitions[0];
            log.Append(OneRecordBatch());
            Assert.Equal(1, log.UnflushedBatches);
            time.Advance(TimeSpan.FromMilliseconds(800)); // four checks, the batch is 800 ms old
            Assert.Equal(1, log.UnflushedBatches);
            time.Advance(TimeSpan.FromMilliseconds(200)); // 1000 ms old: the next check fsyncs it
            Assert.Equal(0, log.UnflushedBatches);
        }
        finally
        {
            await broker.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static byte[] OneRecordBatch()
    {
        using var builder = new Samsa.Protocol.Records.RecordBatchBuilder();
        builder.Add(0, default, true, [1, 2, 3], false);
        using var output = new Samsa.Protocol.Primitives.PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }
}
