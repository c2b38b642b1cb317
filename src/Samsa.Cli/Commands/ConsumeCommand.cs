using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Samsa.Client;
using Samsa.Client.Consumer;
using Samsa.Client.Share;

namespace Samsa.Cli.Commands;

/// <summary>
/// <c>samsa consume</c>: prints records, like kafka-console-consumer.sh. Ctrl+C commits and leaves
/// the group. With <c>--share-group</c> it reads as a member of a KIP-932 share group (like
/// kafka-console-share-consumer.sh) and acknowledges each printed record with <c>--ack</c>.
/// </summary>
internal static class ConsumeCommand
{
    public static Command Create()
    {
        var bootstrap = Common.Bootstrap();
        var verbose = Common.Verbose();
        var topics = new Argument<string[]>("topic") { Arity = ArgumentArity.ZeroOrMore, Description = "topics to read" };
        var topicFlag = new Option<string[]>("--topic") { Description = "a topic to read, repeatable (as Kafka's tools take it)" };
        var commandConfig = ClientProperties.CommandConfig();
        var properties = ClientProperties.Property("--consumer-property");
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
        var format = new Option<string>("--format") { Description = "output per record, with {key} {value} {topic} {partition} {offset} {timestamp} {headers} {deliverycount}", DefaultValueFactory = _ => "{value}" };
        var shareGroup = new Option<string?>("--share-group") { Description = "read as a member of this share group (KIP-932): records are shared with its other members" };
        var ack = new Option<string>("--ack") { Description = "with --share-group: acknowledge each printed record with accept (default), release (deliver again) or reject (never again)", DefaultValueFactory = _ => "accept" };
        var command = new Command("consume", "Print records from topics.")
        {
            topics, topicFlag, commandConfig, properties, bootstrap, pattern, group, fromBeginning, partition, offset, maxMessages, timeout, strategy, groupProtocol, remoteAssignor, instanceId, format, shareGroup, ack, verbose,
        };
        command.SetAction((r, ct) => Common.RunAsync(r, verbose, "consume", async () =>
        {
            var names = (r.GetValue(topics) ?? []).Concat(r.GetValue(topicFlag) ?? []).Distinct(StringComparer.Ordinal).ToArray();
            string? regex = r.GetValue(pattern);
            if ((names.Length == 0) == (regex is null))
                throw new ArgumentException("Give topic names or --pattern (one of the two).");
            if (r.GetValue(shareGroup) is { } share)
            {
                if (regex is not null || r.GetValue(group) is not null || r.GetValue(partition) is not null || r.GetValue(instanceId) is not null || r.GetValue(fromBeginning))
                    throw new ArgumentException("--share-group takes topic names only: not --pattern, --group, --partition, --instance-id or --from-beginning (where a share group starts is its share.auto.offset.reset setting on the broker).");
                return await ConsumeShareAsync(r.GetValue(bootstrap)!, share, names, ParseAck(r.GetValue(ack)!), r.GetValue(maxMessages),
                    r.GetValue(timeout) is { } idleMs ? TimeSpan.FromMilliseconds(idleMs) : null, r.GetValue(format)!, ct);
            }
            if (r.GetResult(ack) is { Implicit: false })
                throw new ArgumentException("--ack needs --share-group.");
            // The CLI's defaults, then the Kafka properties given (--command-config, --consumer-property),
            // then the flags typed: later wins.
            string? groupId = r.GetValue(group);
            List<KeyValuePair<string, string>> all =
            [
                new("client.id", "samsa-cli"), new("request.timeout.ms", "10000"), new("default.api.timeout.ms", "15000"),
                new("auto.offset.reset", "latest"), new("group.protocol", r.GetValue(groupProtocol)!),
            ];
            var given = ClientProperties.Read(r, commandConfig, properties, "--consumer-property");
            all.AddRange(given);
            if (r.GetValue(fromBeginning))
                all.Add(new("auto.offset.reset", "earliest"));
            if (r.GetResult(groupProtocol) is { Implicit: false })
                all.Add(new("group.protocol", r.GetValue(groupProtocol)!));
            var options = ConsumerOptions.FromProperties(all);
            groupId ??= options.GroupId;
            options = options with
            {
                BootstrapServers = r.GetValue(bootstrap)!,
                GroupId = groupId,
                GroupInstanceId = r.GetValue(instanceId) ?? options.GroupInstanceId,
                EnableAutoCommit = groupId is not null && (!given.Any(p => p.Key == "enable.auto.commit") || options.EnableAutoCommit),
                GroupRemoteAssignor = r.GetValue(remoteAssignor) ?? options.GroupRemoteAssignor,
            };
            var protocol = options.GroupProtocol;
            if (r.GetValue(strategy) is { } assignor)
                options = options with { PartitionAssignmentStrategy = [assignor] };
            else if (protocol == GroupProtocol.Classic && !given.Any(p => p.Key == "partition.assignment.strategy"))
                options = options with { PartitionAssignmentStrategy = ["range"] };
            // A missing topic is the same error with or without --group/--partition, as Kafka's console
            // consumer gives it (a group would otherwise wait for a topic that never comes).
            if (regex is null)
                await Common.RequireTopicsAsync(options.BootstrapServers, options.Security, names, ct);
            await using var consumer = new KafkaConsumer<string?, string?>(options);
            if (r.GetValue(partition) is { } p)
            {
                if (names.Length != 1)
                    throw new ArgumentException("--partition needs exactly one topic.");
                var tp = new TopicPartition(names[0], p);
                consumer.Assign([tp]);
                switch (r.GetValue(offset))
                {
                    case null when options.AutoOffsetReset == AutoOffsetReset.Earliest:
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
                await using (var admin = new Samsa.Client.Admin.KafkaAdminClient(new Samsa.Client.Admin.AdminOptions { BootstrapServers = options.BootstrapServers, Security = options.Security }))
                {
                    var described = regex is null
                        ? await admin.DescribeTopicsAsync(names, cancellationToken: ct)
                        : (await admin.DescribeTopicsAsync(cancellationToken: ct)).Where(t => Regex.IsMatch(t.Name, $"^(?:{regex})$")).ToList();
                    partitions.AddRange(described.SelectMany(t => t.Partitions.Select(x => new TopicPartition(t.Name, x.Partition))));
                }
                consumer.Assign(partitions);
                if (options.AutoOffsetReset == AutoOffsetReset.Earliest)
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

    private static AcknowledgeType ParseAck(string value) => value.ToLowerInvariant() switch
    {
        "accept" => AcknowledgeType.Accept,
        "release" => AcknowledgeType.Release,
        "reject" => AcknowledgeType.Reject,
        _ => throw new ArgumentException($"--ack: '{value}' is not accept, release or reject."),
    };

    /// <summary>
    /// Share group mode: explicit acknowledgement, each printed record acknowledged with
    /// <paramref name="ack"/>; records fetched beyond --max-messages are released for others.
    /// With --max-messages the fetches ask for no more records than are still wanted
    /// (share.acquire.mode=record_limit on brokers that have it), so the rest stay with the group.
    /// </summary>
    private static async Task<int> ConsumeShareAsync(string bootstrap, string group, string[] topics, AcknowledgeType ack, int? max, TimeSpan? idle, string template, CancellationToken ct)
    {
        var common = Common.ConsumerOptions(bootstrap);
        var options = new ShareConsumerOptions
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            ClientId = common.ClientId,
            RequestTimeout = common.RequestTimeout,
            DefaultApiTimeout = common.DefaultApiTimeout,
            AcknowledgementMode = ShareAcknowledgementMode.Explicit,
            MaxPollRecords = max is { } m ? Math.Clamp(m, 1, 500) : 500,
            AcquireMode = max is null ? ShareAcquireMode.BatchOptimized : ShareAcquireMode.RecordLimit,
        };
        int failed = 0;
        await using var consumer = new KafkaShareConsumer<string?, string?>(options);
        consumer.AcknowledgementCommitCallback = (offsets, error) =>
        {
            if (error is null)
                return;
            failed++;
            foreach (var (partition, list) in offsets)
                Console.Error.WriteLine($"Acknowledging {partition} offsets {string.Join(",", list)} failed: {error.Message}");
        };
        consumer.Subscribe(topics);
        using var registration = ct.Register(consumer.Wakeup);
        int printed = 0;
        var lastRecord = DateTime.UtcNow;
        try
        {
            while (max is null || printed < max)
            {
                var records = await consumer.PollAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);
                foreach (var record in records)
                {
                    if (max is not null && printed >= max)
                    {
                        consumer.Acknowledge(record, AcknowledgeType.Release); // not printed: for another member
                        continue;
                    }
                    Console.WriteLine(Format(template, record));
                    consumer.Acknowledge(record, ack);
                    printed++;
                }
                if (records.Count > 0)
                    lastRecord = DateTime.UtcNow;
                else if (idle is { } limit && DateTime.UtcNow - lastRecord >= limit)
                    break;
            }
            foreach (var (partition, error) in await consumer.CommitSyncAsync(options.DefaultApiTimeout, CancellationToken.None))
            {
                if (error is not null)
                    await Console.Error.WriteLineAsync($"Acknowledging {partition} failed: {error.Message}");
            }
        }
        catch (WakeupException)
        {
        }
        await Console.Error.WriteLineAsync($"Processed {printed} record(s){(failed > 0 ? $"; {failed} acknowledgement(s) failed" : "")}.");
        return 0;
    }

    private static string Format(string template, ConsumeResult<string?, string?> r) => template
        .Replace("{deliverycount}", r.DeliveryCount?.ToString(CultureInfo.InvariantCulture) ?? "", StringComparison.Ordinal)
        .Replace("{key}", r.Key ?? "null", StringComparison.Ordinal)
        .Replace("{value}", r.Value ?? "null", StringComparison.Ordinal)
        .Replace("{topic}", r.Topic, StringComparison.Ordinal)
        .Replace("{partition}", r.Partition.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{offset}", r.Offset.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{timestamp}", r.Timestamp.ToString("O", CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{headers}", string.Join(",", r.Headers.Select(h => $"{h.Key}={(h.Value is null ? "null" : System.Text.Encoding.UTF8.GetString(h.Value))}")), StringComparison.Ordinal);
}
