using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Interop.Tests.Broker;

namespace Samsa.Interop.Tests.Transactions;

/// <summary>kafkajs's transactional producer (its own protocol code, older request versions) against our coordinator.</summary>
public sealed class KafkajsTransactionTests
{
    [Fact]
    public async Task Kafkajs_commits_one_transaction_with_offsets_and_aborts_another()
    {
        await using var broker = await TempBroker.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.Bootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "js-tx", NumPartitions = 3, ReplicationFactor = 1 }]);
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Samsa.slnx")))
            root = Path.GetDirectoryName(root)!;
        string js = Path.Combine(root, "tests", "interop-js");
        await OtherClientTests.EnsureKafkajs(js);

        var result = await OtherClientTests.Run("node", $"\"{Path.Combine(js, "transactions.js")}\" {broker.Bootstrap} js-tx js-group");
        Assert.True(result.Code == 0, result.Err);

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"js-c{i}").Order(),
            ConfluentTransactionTests.ReadAll(broker.Bootstrap, IsolationLevel.ReadCommitted, 3, "js-tx").Order());
        Assert.Equal(9, ConfluentTransactionTests.ReadAll(broker.Bootstrap, IsolationLevel.ReadUncommitted, 3, "js-tx").Count);
        await using var ours = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = broker.Bootstrap });
        Assert.Equal(2, (await ours.ListGroupOffsetsAsync("js-group")).Single(l => l.Partition == new Samsa.Client.TopicPartition("js-tx", 0)).Committed);
    }
}
