using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Interop.Tests.Cli;

/// <summary><c>samsa transactions list|describe</c> over transactions Confluent.Kafka left open and committed.</summary>
public class TransactionsCliTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task List_filters_by_state_and_describe_shows_the_open_transactions_partitions()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "cli-tx", NumPartitions = 3, ReplicationFactor = 1 }]);
        IProducer<string, string> Producer(string id) =>
            new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap, TransactionalId = id }).Build();
        using (var done = Producer("tx-done"))
        {
            done.InitTransactions(Timeout);
            done.BeginTransaction();
            done.Produce(new TopicPartition("cli-tx", 0), new Message<string, string> { Key = "k", Value = "v" });
            done.CommitTransaction(Timeout);
        }
        using var open = Producer("tx-open");
        open.InitTransactions(Timeout);
        open.BeginTransaction();
        open.Produce(new TopicPartition("cli-tx", 1), new Message<string, string> { Key = "k", Value = "v" });
        open.Produce(new TopicPartition("cli-tx", 2), new Message<string, string> { Key = "k", Value = "v" });
        open.Flush(Timeout);
        string[] b = ["--bootstrap-server", broker.Bootstrap];

        var list = await CliTests.Samsa("", ["transactions", "list", .. b]);
        Assert.True(list.Exit == 0, list.Err);
        Assert.Matches(@"(?m)^tx-done\s+\d+\s+CompleteCommit\s*$", list.Out);
        Assert.Matches(@"(?m)^tx-open\s+\d+\s+Ongoing\s*$", list.Out);
        var ongoing = await CliTests.Samsa("", ["transactions", "list", "--state", "Ongoing", .. b]);
        Assert.True(ongoing.Exit == 0, ongoing.Err);
        Assert.DoesNotContain("tx-done", ongoing.Out, StringComparison.Ordinal);
        Assert.Contains("tx-open", ongoing.Out, StringComparison.Ordinal);
        var bad = await CliTests.Samsa("", ["transactions", "list", "--state", "Sleeping", .. b]);
        Assert.Equal(2, bad.Exit); // a bad argument, as the other commands answer one
        Assert.Contains("Sleeping", bad.Err, StringComparison.Ordinal);

        var described = await CliTests.Samsa("", ["transactions", "describe", "tx-open", .. b]);
        Assert.True(described.Exit == 0, described.Err);
        Assert.Matches(@"tx-open\s+\d+\s+0\s+Ongoing\s+60000\s+\d{4}-\d\d-\d\d [\d:]+Z\s+cli-tx-1,cli-tx-2", described.Out);
        var json = await CliTests.Samsa("", ["transactions", "describe", "tx-done", "--output", "json", .. b]);
        Assert.True(json.Exit == 0, json.Err);
        Assert.Contains("\"state\": \"CompleteCommit\"", json.Out, StringComparison.Ordinal);

        var missing = await CliTests.Samsa("", ["transactions", "describe", "tx-nobody", .. b]);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("tx-nobody", missing.Err, StringComparison.Ordinal);
    }
}
