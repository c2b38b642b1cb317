// Consume-transform-produce, exactly once (KIP-98, KIP-447), with Samsa's client and an in-process
// broker: each batch of "orders" becomes "invoices" in one transaction that also commits the
// group's offsets, so a crash at any point replays only what was not committed. The first
// transaction is aborted on purpose; its output never reaches read_committed readers and its input
// is processed again. The sample checks that every order became exactly one invoice.
//
//   dotnet run --project samples/Samsa.Samples.Transactions [-- <orders>]
using Samsa.Client;
using Samsa.Client.Consumer;
using Samsa.Client.Producer;
using Samsa.Testing;

int count = args.Length > 0 && int.TryParse(args[0], out int n) && n > 0 ? n : 100;

await using var broker = await SamsaTestBroker.StartAsync();
await broker.CreateTopicAsync("orders", partitions: 3);
await broker.CreateTopicAsync("invoices", partitions: 3);
await using (var input = new KafkaProducer<string, string>(new ProducerOptions { BootstrapServers = broker.BootstrapServers }))
{
    for (int i = 0; i < count; i++)
        await input.ProduceAsync("orders", new Message<string, string>($"order-{i}", $"{i * 10}"));
}

var consumerOptions = new ConsumerOptions
{
    BootstrapServers = broker.BootstrapServers,
    GroupId = "billing",
    AutoOffsetReset = AutoOffsetReset.Earliest,
    EnableAutoCommit = false, // offsets go with the transaction instead
    IsolationLevel = IsolationLevel.ReadCommitted, // never read another transaction's uncommitted output
    MaxPollRecords = 25, // a few transactions rather than one
};
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));
int processed = 0, aborted = 0;
await using (var consumer = new KafkaConsumer<string, string>(consumerOptions))
await using (var producer = new KafkaProducer<string, string>(new ProducerOptions
{
    BootstrapServers = broker.BootstrapServers,
    TransactionalId = "billing-0", // one per input partition set; a restarted instance fences its zombie
}))
{
    await producer.InitTransactionsAsync(stop.Token);
    consumer.Subscribe("orders");
    bool abortedOnce = false;
    while (processed < count)
    {
        var batch = await consumer.PollAsync(TimeSpan.FromMilliseconds(500), stop.Token);
        if (batch.Count == 0)
            continue;
        producer.BeginTransaction();
        foreach (var order in batch)
            _ = producer.ProduceAsync("invoices", new Message<string, string>(order.Key, $"invoice for {order.Value}"), stop.Token);
        var next = batch.GroupBy(r => r.TopicPartition).Select(p => new TopicPartitionOffset(p.Key, p.Max(r => r.Offset) + 1));
        await producer.SendOffsetsToTransactionAsync(next, consumer.GroupMetadata!, stop.Token);
        if (!abortedOnce)
        {
            // As a failure would: nothing of this transaction is visible, and its offsets were not
            // committed, so the consumer goes back to the group's committed offsets and reads it again.
            abortedOnce = true;
            await producer.AbortTransactionAsync(stop.Token);
            aborted += batch.Count;
            foreach (var (partition, committed) in await consumer.CommittedAsync(consumer.Assignment, stop.Token))
                consumer.Seek(committed ?? new TopicPartitionOffset(partition, 0));
            continue;
        }
        await producer.CommitTransactionAsync(stop.Token);
        processed += batch.Count;
    }
}
Console.WriteLine($"{processed} orders processed in committed transactions, {aborted} in an aborted one (read again).");

// What a read_committed reader of "invoices" sees: one invoice per order.
var invoices = new Dictionary<string, int>();
await using (var reader = new KafkaConsumer<string, string>(consumerOptions with { GroupId = "audit" }))
{
    reader.Subscribe("invoices");
    while (invoices.Values.Sum() < count)
    {
        foreach (var invoice in await reader.PollAsync(TimeSpan.FromMilliseconds(500), stop.Token))
            invoices[invoice.Key] = invoices.GetValueOrDefault(invoice.Key) + 1;
    }
    // Anything beyond the count would arrive with the next poll: give it one more.
    foreach (var invoice in await reader.PollAsync(TimeSpan.FromSeconds(1), stop.Token))
        invoices[invoice.Key] = invoices.GetValueOrDefault(invoice.Key) + 1;
}
bool exactlyOnce = invoices.Count == count && invoices.Values.All(v => v == 1);
Console.WriteLine(exactlyOnce ? $"Exactly once: {count} invoices, one per order." : $"NOT exactly once: {invoices.Count} keys, {invoices.Values.Sum()} invoices.");
return exactlyOnce ? 0 : 1;
