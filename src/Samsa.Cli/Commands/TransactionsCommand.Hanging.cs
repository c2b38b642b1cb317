using System.CommandLine;
using System.Globalization;
using Samsa.Client;
using Samsa.Client.Admin;

namespace Samsa.Cli.Commands;

/// <summary>
/// kafka-transactions.sh's describe-producers, find-hanging and abort (KIP-664): a transaction whose
/// producer died and whose coordinator no longer knows it holds the partition's last stable offset
/// back, so read_committed consumers stop there; these find it and write the ABORT marker.
/// </summary>
internal static partial class TransactionsCommand
{
    private static IEnumerable<Command> HangingCommands(Option<bool> verbose, Option<string> output, Func<ParseResult, KafkaAdminClient> admin)
    {
        var topic = new Option<string>("--topic") { Description = "the topic", Required = true };
        var partition = new Option<int>("--partition") { Description = "the partition", Required = true };
        var describeProducers = new Command("describe-producers", "Show the producers a partition keeps state for and their open transactions.") { topic, partition };
        describeProducers.SetAction((r, ct) => Common.RunAsync(r, verbose, "transactions describe-producers", async () =>
        {
            await using var client = admin(r);
            var tp = new TopicPartition(r.GetValue(topic)!, r.GetValue(partition));
            var producers = (await client.DescribeProducersAsync([tp], ct))[tp];
            if (r.GetValue(output) == "json")
                Common.Json(producers);
            else
                Common.Table(["PRODUCER ID", "EPOCH", "LAST SEQUENCE", "LAST TIMESTAMP", "COORDINATOR EPOCH", "TRANSACTION START OFFSET"],
                    producers.Select(p => (IReadOnlyList<string>)[Num(p.ProducerId), Num(p.ProducerEpoch), Num(p.LastSequence), Time(p.LastTimestamp), Num(p.CoordinatorEpoch),
                        p.TransactionStartOffset is { } o ? Num(o) : "-"]));
            return 0;
        }));

        var abortTopic = new Option<string>("--topic") { Description = "the topic", Required = true };
        var abortPartition = new Option<int>("--partition") { Description = "the partition", Required = true };
        var startOffset = new Option<long?>("--start-offset") { Description = "the first offset of the transaction to abort (as describe-producers or find-hanging shows it)" };
        var producerId = new Option<long?>("--producer-id") { Description = "or give the producer directly: its id" };
        var producerEpoch = new Option<short?>("--producer-epoch") { Description = "... its epoch" };
        var coordinatorEpoch = new Option<int?>("--coordinator-epoch") { Description = "... and the coordinator epoch" };
        var abort = new Command("abort", "Abort a hanging transaction on one partition (needs CLUSTER_ACTION).") { abortTopic, abortPartition, startOffset, producerId, producerEpoch, coordinatorEpoch };
        abort.SetAction((r, ct) => Common.RunAsync(r, verbose, "transactions abort", async () =>
        {
            await using var client = admin(r);
            var tp = new TopicPartition(r.GetValue(abortTopic)!, r.GetValue(abortPartition));
            AbortTransactionSpec spec;
            if (r.GetValue(startOffset) is { } offset)
            {
                var open = (await client.DescribeProducersAsync([tp], ct))[tp].FirstOrDefault(p => p.TransactionStartOffset == offset)
                    ?? throw new ArgumentException($"No open transaction starts at offset {offset} of {tp}: see 'samsa transactions describe-producers --topic {tp.Topic} --partition {tp.Partition}'.");
                spec = new AbortTransactionSpec(tp, open.ProducerId, (short)open.ProducerEpoch, Math.Max(open.CoordinatorEpoch, 0));
            }
            else if (r.GetValue(producerId) is { } id && r.GetValue(producerEpoch) is { } epoch && r.GetValue(coordinatorEpoch) is { } coordinator)
            {
                spec = new AbortTransactionSpec(tp, id, epoch, coordinator);
            }
            else
            {
                throw new ArgumentException("Give --start-offset, or --producer-id, --producer-epoch and --coordinator-epoch.");
            }
            await client.AbortTransactionAsync(spec, ct);
            Console.WriteLine($"Aborted the transaction of producer {spec.ProducerId} (epoch {spec.ProducerEpoch}) on {tp}.");
            return 0;
        }));

        var findTopic = new Option<string[]>("--topic") { Description = "only these topics (default: every topic)" };
        var maxTimeout = new Option<int>("--max-transaction-timeout") { Description = "minutes an open transaction may run before it counts as hanging (Kafka's transaction.max.timeout.ms, 15)", DefaultValueFactory = _ => 15 };
        var findHanging = new Command("find-hanging", "List open transactions older than --max-transaction-timeout that no coordinator has on record for their partition.") { findTopic, maxTimeout };
        findHanging.SetAction((r, ct) => Common.RunAsync(r, verbose, "transactions find-hanging", async () =>
        {
            await using var client = admin(r);
            var topics = await client.DescribeTopicsAsync(r.GetValue(findTopic) is { Length: > 0 } named ? named : null, cancellationToken: ct);
            var partitions = topics.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name, p.Partition))).ToList();
            long cutoff = DateTimeOffset.UtcNow.AddMinutes(-r.GetValue(maxTimeout)).ToUnixTimeMilliseconds();
            var candidates = partitions.Count == 0 ? [] : (await client.DescribeProducersAsync(partitions, ct))
                .SelectMany(kv => kv.Value.Where(p => p.TransactionStartOffset is not null && p.LastTimestamp < cutoff).Select(p => (Partition: kv.Key, Producer: p)))
                .ToList();
            var hanging = new List<(TopicPartition Partition, ProducerState Producer)>();
            foreach (var (tp, producer) in candidates)
            {
                // Not hanging if a coordinator still has this producer's transaction with this partition in it.
                var owners = await client.ListTransactionsAsync(producerIds: [producer.ProducerId], cancellationToken: ct);
                bool known = false;
                foreach (var owner in owners)
                    known |= (await client.DescribeTransactionAsync(owner.TransactionalId, ct)).Partitions.Contains(tp);
                if (!known)
                    hanging.Add((tp, producer));
            }
            if (r.GetValue(output) == "json")
                Common.Json(hanging.Select(h => new { Topic = h.Partition.Topic, h.Partition.Partition, h.Producer.ProducerId, h.Producer.ProducerEpoch, h.Producer.CoordinatorEpoch, StartOffset = h.Producer.TransactionStartOffset, h.Producer.LastTimestamp }));
            else
                Common.Table(["TOPIC", "PARTITION", "PRODUCER ID", "EPOCH", "COORDINATOR EPOCH", "START OFFSET", "LAST TIMESTAMP"],
                    hanging.Select(h => (IReadOnlyList<string>)[h.Partition.Topic, Num(h.Partition.Partition), Num(h.Producer.ProducerId), Num(h.Producer.ProducerEpoch),
                        Num(h.Producer.CoordinatorEpoch), Num(h.Producer.TransactionStartOffset!.Value), Time(h.Producer.LastTimestamp)]));
            return 0;
        }));
        return [describeProducers, findHanging, abort];
    }

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Time(long ms) => ms < 0 ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("u", CultureInfo.InvariantCulture);
}
