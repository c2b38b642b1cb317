using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Samsa.Client;
using Samsa.Client.Consumer;

namespace Samsa.Cli.Commands;

/// <summary><c>samsa consume</c>: prints records, like kafka-console-consumer.sh. Ctrl+C commits and leaves the group.</summary>
internal static class ConsumeCommand
{
    public static Command Create()
    {
        var bootstrap = Common.Bootstrap();
        var verbose = Common.Verbose();
        var topics = new Argument<string[]>("topic") { Arity = ArgumentArity.ZeroOrMore, Description = "topics to read" };
        var pattern = new Option<string?>("--pattern") { Description = "subscribe to every topic whose name matches this regex" };
        var group = new Option<string?>("--group") { Description = "consumer group (default: none; records are read without committing)" };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "start at the earliest offset when the group has none" };
        var partition = new Option<int?>("--partition") { Description = "read only this partition (standalone, no group rebalancing)" };
        var offset = new Option<string?>("--offset") { Description = "with --partition: an offset, 'earliest' or 'latest'" };
        var maxMessages = new Option<int?>("--max-messages") { Description = "exit after this many records" };
        var timeout = new Option<int?>("--timeout-ms") { Description = "exit after this long with no record" };
        var strategy = new Option<string?>("--strategy") { Description = "classic protocol assignor: range (default)|roundrobin|sticky|cooperative-sticky" };
        var groupProtocol = new Option<string>("--group-protocol") { Description = "group.protocol: classic (default) or consumer (KIP-848: the broker assigns)", DefaultValueFactory = _ => "classic" };
        var remoteAssignor = new Option<string?>("--remote-assignor") { Description = "group.remote.assignor with --group-protocol consumer: uniform or range" };
        var instanceId = new Option<string?>("--instance-id") { Description = "group.instance.id: a static member" };
        var format = new Option<string>("--format") { Description = "output per record, with {key} {value} {topic} {partition} {offset} {timestamp} {headers}", DefaultValueFactory = _ => "{value}" };
        var command = new Command("consume", "Print records from topics.")
        {
            topics, bootstrap, pattern, group, fromBeginning, partition, offset, maxMessages, timeout, strategy, groupProtocol, remoteAssignor, instanceId, format, verbose,
        };
        command.SetAction((r, ct) => Common.RunAsync(r, verbose, "consume", async () =>
        {
            var names = r.GetValue(topics) ?? [];
            string? regex = r.GetValue(pattern);
            if ((names.Length == 0) == (regex is null))
                throw new ArgumentException("Give topic names or --pattern (one of the two).");
            var protocol = ConsumerOptions.FromProperties([new("group.protocol", r.GetValue(groupProtocol)!)]).GroupProtocol;
            var options = Common.ConsumerOptions(r.GetValue(bootstrap)!) with
            {
                GroupId = r.GetValue(group),
                GroupInstanceId = r.GetValue(instanceId),
                AutoOffsetReset = r.GetValue(fromBeginning) ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
                EnableAutoCommit = r.GetValue(group) is not null,
                GroupProtocol = protocol,
                GroupRemoteAssignor = r.GetValue(remoteAssignor),
            };
            if (r.GetValue(strategy) is { } assignor)
                options = options with { PartitionAssignmentStrategy = [assignor] };
            else if (protocol == GroupProtocol.Classic)
                options = options with { PartitionAssignmentStrategy = ["range"] };
            await using var consumer = new KafkaConsumer<string?, string?>(options);
            if (r.GetValue(partition) is { } p)
            {
                if (names.Length != 1)
                    throw new ArgumentException("--partition needs exactly one topic.");
                var tp = new TopicPartition(names[0], p);
                consumer.Assign([tp]);
                switch (r.GetValue(offset))
                {
                    case null when r.GetValue(fromBeginning):
                    case "earliest":
                        consumer.SeekToBeginning([tp]);
                        break;
                    case null when options.GroupId is null:
                    case "latest":
                        consumer.SeekToEnd([tp]);
                        break;
                    case null:
                        break;
                    case var o:
                        consumer.Seek(new TopicPartitionOffset(tp, long.Parse(o, NumberStyles.None, CultureInfo.InvariantCulture)));
                        break;
                }
            }
            else if (options.GroupId is null)
            {
                // No group: read every partition of the topics, as kafka-console-consumer does.
                var partitions = new List<TopicPartition>();
                await using (var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = options.BootstrapServers }))
                {
                    var described = regex is null
                        ? await admin.DescribeTopicsAsync(names, cancellationToken: ct)
                        : (await admin.DescribeTopicsAsync(cancellationToken: ct)).Where(t => Regex.IsMatch(t.Name, $"^(?:{regex})$")).ToList();
                    partitions.AddRange(described.SelectMany(t => t.Partitions.Select(x => new TopicPartition(t.Name, x.Partition))));
                }
                consumer.Assign(partitions);
                if (r.GetValue(fromBeginning))
                    consumer.SeekToBeginning(partitions);
                else
                    consumer.SeekToEnd(partitions);
            }
            else if (regex is not null)
            {
                consumer.Subscribe(new Regex(regex));
            }
            else
            {
                consumer.Subscribe(names);
            }

            // Ctrl+C: wake the poll loop; disposal then commits and leaves the group.
            using var registration = ct.Register(consumer.Wakeup);
            int? max = r.GetValue(maxMessages);
            var idle = r.GetValue(timeout) is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            string template = r.GetValue(format)!;
            int printed = 0;
            var lastRecord = DateTime.UtcNow;
            try
            {
                while (max is null || printed < max)
                {
                    var records = await consumer.PollAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);
                    foreach (var record in records)
                    {
                        Console.WriteLine(Format(template, record));
                        if (++printed == max)
                            break;
                    }
                    if (records.Count > 0)
                        lastRecord = DateTime.UtcNow;
                    else if (idle is { } limit && DateTime.UtcNow - lastRecord >= limit)
                        break;
                }
                if (options.GroupId is not null && max is not null)
                    await consumer.CommitSyncAsync(cancellationToken: CancellationToken.None);
            }
            catch (WakeupException)
            {
            }
            await Console.Error.WriteLineAsync($"Processed {printed} record(s).");
            return 0;
        }));
        return command;
    }

    private static string Format(string template, ConsumeResult<string?, string?> r) => template
        .Replace("{key}", r.Key ?? "null", StringComparison.Ordinal)
        .Replace("{value}", r.Value ?? "null", StringComparison.Ordinal)
        .Replace("{topic}", r.Topic, StringComparison.Ordinal)
        .Replace("{partition}", r.Partition.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{offset}", r.Offset.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{timestamp}", r.Timestamp.ToString("O", CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{headers}", string.Join(",", r.Headers.Select(h => $"{h.Key}={(h.Value is null ? "null" : System.Text.Encoding.UTF8.GetString(h.Value))}")), StringComparison.Ordinal);
}
