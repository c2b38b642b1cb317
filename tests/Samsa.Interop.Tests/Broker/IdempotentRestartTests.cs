using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;
using Samsa.Protocol.Records;

namespace Samsa.Interop.Tests.Broker;

/// <summary>
/// An idempotent producer's retry after the broker restarted, cleanly or by kill -9, on the wire:
/// the batch already written is answered with its original offset and not written again, and a
/// gap is still refused. (Before producer snapshots the first retry after any restart was appended
/// a second time.)
/// </summary>
public sealed class IdempotentRestartTests
{
    private const string Topic = "idem";
    private int _correlation;

    private static byte[] Batch(long producerId, int firstSequence, int records = 5)
    {
        // Now, not a fixed past: as in Kafka, a producer whose last batch's timestamp is older than
        // producer.id.expiration.ms (a day) is forgotten.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = firstSequence };
        for (int i = 0; i < records; i++)
            builder.Add(now + i, [(byte)i], false, System.Text.Encoding.UTF8.GetBytes($"s{firstSequence + i}"), false);
        using var output = new PooledBufferWriter();
        builder.Build(output);
        return output.WrittenSpan.ToArray();
    }

    private async Task<TResponse> Send<TResponse>(string bootstrap, IRequest request, short version)
        where TResponse : IResponse, IApiMessage<TResponse>
    {
        int colon = bootstrap.LastIndexOf(':');
        using var client = new TcpClient();
        await client.ConnectAsync(bootstrap[..colon], int.Parse(bootstrap[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var stream = client.GetStream();
        int correlation = ++_correlation;
        using (var buffer = new PooledBufferWriter())
        {
            KafkaFrame.WriteRequest(buffer, request, version, correlation, "idempotent-restart-test");
            await stream.WriteAsync(buffer.WrittenMemory);
        }
        var size = new byte[4];
        await stream.ReadExactlyAsync(size).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return KafkaFrame.ReadResponse<TResponse>(body, version, out _);
    }

    private async Task<long> ProducerId(string bootstrap)
    {
        var r = await Send<InitProducerIdResponse>(bootstrap, new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60_000, ProducerId = -1, ProducerEpoch = -1 }, 4);
        Assert.Equal(ErrorCode.None, r.ErrorCode);
        return r.ProducerId;
    }

    private async Task<(ErrorCode Error, long BaseOffset)> Produce(string bootstrap, byte[] batch)
    {
        var r = await Send<ProduceResponse>(bootstrap, new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new() { Name = Topic, PartitionData = [new() { Index = 0, Records = batch }] }],
        }, 9);
        var p = r.Responses.Single().PartitionResponses.Single();
        return (p.ErrorCode, p.BaseOffset);
    }

    private async Task<long> EndOffset(string bootstrap)
    {
        var r = await Send<ListOffsetsResponse>(bootstrap, new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, Timestamp = -1 }] }],
        }, 7);
        return r.Topics.Single().Partitions.Single().Offset;
    }

    /// <summary>Two batches written; the second is retried after the restart, then the producer goes on.</summary>
    private async Task WriteThenRetryAcross(Func<Task<string>> restart, string bootstrap)
    {
        long pid = await ProducerId(bootstrap);
        Assert.Equal((ErrorCode.None, 0L), await Produce(bootstrap, Batch(pid, 0)));
        Assert.Equal((ErrorCode.None, 5L), await Produce(bootstrap, Batch(pid, 5)));

        bootstrap = await restart();

        Assert.Equal((ErrorCode.None, 5L), await Produce(bootstrap, Batch(pid, 5)));
        Assert.Equal((ErrorCode.None, 0L), await Produce(bootstrap, Batch(pid, 0)));
        Assert.Equal(10, await EndOffset(bootstrap));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, (await Produce(bootstrap, Batch(pid, 20))).Error);
        Assert.Equal((ErrorCode.None, 10L), await Produce(bootstrap, Batch(pid, 10)));
        Assert.Equal(15, await EndOffset(bootstrap));
    }

    [Fact]
    public async Task A_retry_after_a_clean_restart_is_answered_with_its_offset_and_not_written_again()
    {
        await using var broker = await TempBroker.StartAsync();
        await Client.SamsaConsumerTests.CreateTopic(broker.Bootstrap, Topic, 1);
        await WriteThenRetryAcross(async () =>
        {
            await broker.RestartAsync();
            return broker.Bootstrap;
        }, broker.Bootstrap);
    }

    [Fact]
    public async Task A_retry_after_a_kill_9_is_answered_with_its_offset_and_not_written_again()
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-idem-" + Guid.NewGuid().ToString("N"));
        var process = await StartBrokerProcess(dir);
        try
        {
            await Client.SamsaConsumerTests.CreateTopic(process.Bootstrap, Topic, 1);
            await WriteThenRetryAcross(async () =>
            {
                process.Process.Kill(entireProcessTree: true);
                await process.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                process = await StartBrokerProcess(dir);
                return process.Bootstrap;
            }, process.Bootstrap);
        }
        finally
        {
            if (!process.Process.HasExited)
                process.Process.Kill(entireProcessTree: true);
            await process.Process.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(Process Process, string Bootstrap)> StartBrokerProcess(string dir)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        string cli = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
        var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{cli}\" broker --listen 127.0.0.1:{port} --data-dir \"{dir}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))) is not null && !line.Contains("listening", StringComparison.Ordinal))
        {
        }
        Assert.NotNull(line);
        // The rest of its output is not read: drain it so the process never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return (process, $"127.0.0.1:{port}");
    }
}
