using System.CommandLine;
using Samsa.Client.Admin;

namespace Samsa.Cli.Commands;

/// <summary><c>samsa topics create|list|describe|alter|add-partitions|delete</c>, like kafka-topics.sh.</summary>
internal static class TopicsCommand
{
    public static Command Create()
    {
        var topics = new Command("topics", "Create, list, describe, change and delete topics.");
        var bootstrap = Common.Bootstrap();
        var output = Common.Output();
        var verbose = Common.Verbose();
        var commandConfig = ClientProperties.CommandConfig();
        foreach (var o in new Option[] { bootstrap, output, verbose, commandConfig })
        {
            o.Recursive = true;
            topics.Options.Add(o);
        }
        KafkaAdminClient Admin(ParseResult r) => new(ClientProperties.Admin(r, bootstrap, commandConfig));

        var name = new Argument<string?>("name") { Description = "topic name", Arity = ArgumentArity.ZeroOrOne };
        var nameFlag = ClientProperties.TopicFlag();
        var partitions = new Option<int>("--partitions") { Description = "number of partitions (default: the broker's num.partitions)", DefaultValueFactory = _ => -1 };
        var replicationFactor = new Option<int?>("--replication-factor") { Description = "accepted as 1 (one node), as kafka-topics.sh takes it" };
        var config = new Option<string[]>("--config") { Description = "key=value topic setting, repeatable" };
        var ifNotExists = new Option<bool>("--if-not-exists") { Description = "succeed when the topic already exists" };
        var create = new Command("create", "Create a topic.") { name, nameFlag, partitions, replicationFactor, config, ifNotExists };
        create.SetAction((r, ct) => Common.RunAsync(r, verbose, "topics create", async () =>
        {
            if (r.GetValue(replicationFactor) is { } rf and not (1 or -1))
                throw new ArgumentException($"--replication-factor {rf}: Samsa is a single node, so every partition has one replica (give 1, or leave it out).");
            await using var admin = Admin(r);
            var topic = ClientProperties.Topic(r, name, nameFlag);
            try
            {
                await admin.CreateTopicsAsync([new NewTopic(topic, r.GetValue(partitions)) { Configs = Common.Pairs(r.GetValue(config), "--config") }], cancellationToken: ct);
            }
            catch (Samsa.Client.Errors.TopicExistsException) when (r.GetValue(ifNotExists))
            {
                return 0;
            }
            Console.WriteLine($"Created topic {topic}.");
            return 0;
        }));

        var list = new Command("list", "List topics.");
        list.SetAction((r, ct) => Common.RunAsync(r, verbose, "topics list", async () =>
        {
            await using var admin = Admin(r);
            var all = await admin.DescribeTopicsAsync(cancellationToken: ct);
            if (r.GetValue(output) == "json")
                Common.Json(all.Select(t => new { t.Name, Partitions = t.Partitions.Count }));
            else
                Common.Table(["TOPIC", "PARTITIONS"], all.Select(t => (IReadOnlyList<string>)[t.Name, t.Partitions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
            return 0;
        }));

        var describeName = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne };
        var describeNameFlag = ClientProperties.TopicFlag();
        var describe = new Command("describe", "Show a topic's partitions and settings.") { describeName, describeNameFlag };
        describe.SetAction((r, ct) => Common.RunAsync(r, verbose, "topics describe", async () =>
        {
            await using var admin = Admin(r);
            var topic = (await admin.DescribeTopicsAsync([ClientProperties.Topic(r, describeName, describeNameFlag)], cancellationToken: ct)).Single();
            var configs = await admin.DescribeTopicConfigsAsync(topic.Name, ct);
            if (r.GetValue(output) == "json")
            {
                Common.Json(new { topic.Name, TopicId = topic.TopicId, topic.Partitions, Configs = configs.Where(c => !c.IsDefault).ToDictionary(c => c.Name, c => c.Value) });
                return 0;
            }
            Console.WriteLine($"Topic: {topic.Name}  TopicId: {topic.TopicId}  Partitions: {topic.Partitions.Count}");
            var overrides = configs.Where(c => !c.IsDefault).Select(c => $"{c.Name}={c.Value}").ToList();
            Console.WriteLine($"Configs: {(overrides.Count == 0 ? "(defaults)" : string.Join(", ", overrides))}");
            Common.Table(["PARTITION", "LEADER", "REPLICAS", "ISR"], topic.Partitions.Select(p => (IReadOnlyList<string>)[
                p.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Leader.ToString(System.Globalization.CultureInfo.InvariantCulture),
                string.Join(",", p.Replicas), string.Join(",", p.Isr)]));
            return 0;
        }));

        var alterName = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne };
        var alterNameFlag = ClientProperties.TopicFlag();
        var alterConfig = new Option<string[]>("--config") { Description = "key=value to set, repeatable" };
        var deleteConfig = new Option<string[]>("--delete-config") { Description = "key to reset to its default, repeatable" };
        var alter = new Command("alter", "Change a topic's settings.") { alterName, alterNameFlag, alterConfig, deleteConfig };
        alter.SetAction((r, ct) => Common.RunAsync(r, verbose, "topics alter", async () =>
        {
            await using var admin = Admin(r);
            var changes = Common.Pairs(r.GetValue(alterConfig), "--config").ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
            foreach (var key in r.GetValue(deleteConfig) ?? [])
                changes[key] = null;
            if (changes.Count == 0)
                throw new ArgumentException("Nothing to change: give --config key=value or --delete-config key.");
            var topic = ClientProperties.Topic(r, alterName, alterNameFlag);
            await admin.AlterTopicConfigsAsync(topic, changes, cancellationToken: ct);
            Console.WriteLine($"Updated {topic}.");
            return 0;
        }));

        var growName = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne };
        var growNameFlag = ClientProperties.TopicFlag();
        var growTo = new Option<int>("--partitions") { Description = "the new total number of partitions", Required = true };
        var addPartitions = new Command("add-partitions", "Grow a topic to more partitions.") { growName, growNameFlag, growTo };
        addPartitions.SetAction((r, ct) => Common.RunAsync(r, verbose, "topics add-partitions", async () =>
        {
            await using var admin = Admin(r);
            var topic = ClientProperties.Topic(r, growName, growNameFlag);
            await admin.CreatePartitionsAsync(new Dictionary<string, int> { [topic] = r.GetValue(growTo) }, cancellationToken: ct);
            Console.WriteLine($"{topic} now has {r.GetValue(growTo)} partitions.");
            return 0;
        }));

        var deleteName = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne };
        var deleteNameFlag = ClientProperties.TopicFlag();
        var ifExists = new Option<bool>("--if-exists") { Description = "succeed when the topic does not exist" };
        var delete = new Command("delete", "Delete a topic and its data.") { deleteName, deleteNameFlag, ifExists };
        delete.SetAction((r, ct) => Common.RunAsync(r, verbose, "topics delete", async () =>
        {
            await using var admin = Admin(r);
            var topic = ClientProperties.Topic(r, deleteName, deleteNameFlag);
            try
            {
                await admin.DeleteTopicsAsync([topic], ct);
            }
            catch (Samsa.Client.Errors.UnknownTopicException) when (r.GetValue(ifExists))
            {
                return 0;
            }
            Console.WriteLine($"Deleted topic {topic}.");
            return 0;
        }));

        foreach (var c in new[] { create, list, describe, alter, addPartitions, delete })
            topics.Subcommands.Add(c);
        return topics;
    }

    private static readonly Dictionary<string, string> KafkaActions = new(StringComparer.Ordinal)
    {
        ["--create"] = "create",
        ["--list"] = "list",
        ["--describe"] = "describe",
        ["--delete"] = "delete",
    };

    /// <summary>
    /// kafka-topics.sh names the action with a flag (<c>--create --topic t --partitions 3</c>); people
    /// and scripts (librdkafka's test suite among them) type it that way, so <c>samsa topics --create ...</c>
    /// is read as <c>samsa topics create ...</c>. <c>--alter --partitions N</c> is add-partitions, as in
    /// kafka-topics.sh; <c>--alter --config</c> stays alter.
    /// </summary>
    public static string[] FromKafkaStyle(string[] args)
    {
        if (args.Length < 2 || args[0] != "topics")
            return args;
        var rest = args.Skip(1).ToList();
        string? action = null;
        foreach (var (flag, command) in KafkaActions)
        {
            if (rest.Remove(flag))
                action ??= command;
        }
        if (rest.Remove("--alter"))
            action ??= rest.Contains("--partitions") ? "add-partitions" : "alter";
        return action is null ? args : ["topics", action, .. rest];
    }
}
