using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Transactions;

/// <summary>
/// kill -9 of the broker process in the middle of a transaction: after the restart the coordinator
/// finds it Ongoing, aborts it when its timeout runs out (fencing the dead producer's epoch), and
/// read_committed readers never see its records; the transactional id then works as before.
/// </summary>
public sealed class TransactionCrashTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const string Topic = "tx-crash";

    [Fact]
    public async Task A_transaction_open_when_the_broker_is_killed_is_aborted_after_the_restart_and_never_seen_by_read_committed()
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-txcrash-" + Guid.NewGuid().ToString("N"));
        int port = FreePort();
        string bootstrap = $"127.0.0.1:{port}";
        var broker = await StartBrokerProcess(dir, port);
        try
        {
            using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
                await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 3, ReplicationFactor = 1 }]);
            var config = new ProducerConfig { BootstrapServers = bootstrap, TransactionalId = "tx-crash-id", TransactionTimeoutMs = 3000 };
            var doomed = new ProducerBuilder<string, string>(config).Build();
            doomed.InitTransactions(Timeout);
            doomed.BeginTransaction();
            for (int i = 0; i < 9; i++)
                doomed.Produce(new TopicPartition(Topic, i % 3), new Message<string, string> { Key = "k", Value = $"lost{i}" });
            doomed.Flush(Timeout);
            Assert.Equal("Ongoing", await ConfluentTransactionTests.StateOf(bootstrap, "tx-crash-id", "Ongoing"));

            broker.Kill(entireProcessTree: true);
            await broker.WaitForExitAsync().WaitAsync(Timeout);
            broker = await StartBrokerProcess(dir, port);

            // Loaded Ongoing from __transaction_state; aborted once its 3 s have run out.
            Assert.Equal("CompleteAbort", await ConfluentTransactionTests.StateOf(bootstrap, "tx-crash-id", "CompleteAbort"));
            Assert.Empty(ConfluentTransactionTests.ReadAll(bootstrap, IsolationLevel.ReadCommitted, 3, Topic));
            Assert.Equal(9, ConfluentTransactionTests.ReadAll(bootstrap, IsolationLevel.ReadUncommitted, 3, Topic).Count);
            doomed.Dispose();

            using var successor = new ProducerBuilder<string, string>(config).Build();
            successor.InitTransactions(Timeout);
            successor.BeginTransaction();
            for (int i = 0; i < 3; i++)
                successor.Produce(new TopicPartition(Topic, i), new Message<string, string> { Key = "k", Value = $"kept{i}" });
            successor.CommitTransaction(Timeout);
            Assert.Equal(["kept0", "kept1", "kept2"], ConfluentTransactionTests.ReadAll(bootstrap, IsolationLevel.ReadCommitted, 3, Topic).Order());
        }
        finally
        {
            if (!broker.HasExited)
                broker.Kill(entireProcessTree: true);
            await broker.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<Process> StartBrokerProcess(string dir, int port)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
        var process = Process.Start(new ProcessStartInfo("dotnet",
            $"\"{cli}\" broker --listen 127.0.0.1:{port} --data-dir \"{dir}\" --override transaction.abort.timed.out.transaction.cleanup.interval.ms=200")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout)) is not null && !line.Contains("listening", StringComparison.Ordinal))
        {
        }
        Assert.NotNull(line);
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }
}
