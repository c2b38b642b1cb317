using System.CommandLine;
using Samsa.Client.Admin;

namespace Samsa.Cli.Commands;

/// <summary>
/// <c>samsa acls --add|--remove|--list</c> with kafka-acls.sh's own flags, so the lines people keep
/// in runbooks (and tools that shell out to kafka-acls.sh) work unchanged: resources (--topic, --group,
/// --cluster, --transactional-id, --resource-pattern-type), principals and hosts
/// (--allow-principal/--deny-principal, --allow-host/--deny-host, --principal for --list),
/// --operation, and the --producer/--consumer shortcuts.
/// </summary>
internal static class AclsCommand
{
    public static Command Create()
    {
        var bootstrap = Common.Bootstrap();
        var verbose = Common.Verbose();
        var commandConfig = ClientProperties.CommandConfig();
        var add = new Option<bool>("--add") { Description = "add the ACLs described by the other flags" };
        var remove = new Option<bool>("--remove") { Description = "remove the matching ACLs" };
        var list = new Option<bool>("--list") { Description = "list ACLs (of the given resources, or all)" };
        var topic = Repeated("--topic", "a topic ('*' for all), repeatable");
        var group = Repeated("--group", "a group ('*' for all), repeatable");
        var cluster = new Option<bool>("--cluster") { Description = "the cluster resource" };
        var transactionalId = Repeated("--transactional-id", "a transactional id ('*' for all), repeatable");
        var patternType = new Option<string?>("--resource-pattern-type") { Description = "literal (the default), prefixed, or for --list/--remove also any or match" };
        var allowPrincipal = Repeated("--allow-principal", "principal allowed, as User:name; repeatable");
        var denyPrincipal = Repeated("--deny-principal", "principal denied, as User:name; repeatable");
        var principal = Repeated("--principal", "with --list: only ACLs of this principal; repeatable");
        var allowHost = Repeated("--allow-host", "host the allowed principals may connect from (default *)");
        var denyHost = Repeated("--deny-host", "host the denied principals are denied from (default *)");
        var operation = Repeated("--operation", "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All (default All)");
        var producer = new Option<bool>("--producer") { Description = "shortcut: Write, Describe and Create on the topics (IdempotentWrite on the cluster with --idempotent)" };
        var consumer = new Option<bool>("--consumer") { Description = "shortcut: Read and Describe on the topics, Read on the groups" };
        var idempotent = new Option<bool>("--idempotent") { Description = "with --producer: also IdempotentWrite on the cluster" };
        var force = new Option<bool>("--force") { Description = "remove without asking" };

        var acls = new Command("acls", "Add, remove and list ACLs, as kafka-acls.sh does (the broker needs authorizer.class.name).");
        foreach (var o in new Option[] { bootstrap, commandConfig, verbose, add, remove, list, topic, group, cluster, transactionalId, patternType,
                     allowPrincipal, denyPrincipal, principal, allowHost, denyHost, operation, producer, consumer, idempotent, force })
            acls.Options.Add(o);

        acls.SetAction((r, ct) => Common.RunAsync(r, verbose, "acls", async () =>
        {
            int actions = (r.GetValue(add) ? 1 : 0) + (r.GetValue(remove) ? 1 : 0) + (r.GetValue(list) ? 1 : 0);
            if (actions != 1)
                throw new ArgumentException("Give exactly one of --add, --remove or --list.");
            var resources = Resources(r.GetValue(topic), r.GetValue(group), r.GetValue(cluster), r.GetValue(transactionalId));
            await using var admin = new KafkaAdminClient(ClientProperties.Admin(r, bootstrap, commandConfig));

            if (r.GetValue(list))
            {
                // As kafka-acls.sh: LITERAL unless told otherwise; --list with no resource lists everything.
                var pattern = Pattern(r.GetValue(patternType), AclPatternType.Literal);
                var principals = r.GetValue(principal) is { Length: > 0 } p ? p.Select(x => (string?)x).ToList() : [null];
                var filters = resources.Count == 0
                    ? principals.Select(p => new AclBindingFilter(Principal: p)).ToList()
                    : resources.SelectMany(res => principals.Select(p => new AclBindingFilter(res.Type, res.Name, pattern, p))).ToList();
                var found = new List<AclBinding>();
                foreach (var filter in filters)
                    found.AddRange(await admin.DescribeAclsAsync(filter, ct));
                Print("Current ACLs for resource", found.Distinct());
                return 0;
            }

            if (resources.Count == 0)
                throw new ArgumentException("Give a resource: --topic, --group, --cluster or --transactional-id.");
            var entries = Entries(r, allowPrincipal, denyPrincipal, allowHost, denyHost, operation, producer, consumer, idempotent, resources);

            if (r.GetValue(add))
            {
                if (entries.Count == 0)
                    throw new ArgumentException("Give --allow-principal or --deny-principal (and --operation, or --producer/--consumer).");
                var pattern = Pattern(r.GetValue(patternType), AclPatternType.Literal);
                if (pattern is not (AclPatternType.Literal or AclPatternType.Prefixed))
                    throw new ArgumentException("--resource-pattern-type: --add takes literal or prefixed.");
                var bindings = entries.Select(e => new AclBinding(e.Resource.Type, e.Resource.Name, pattern, e.Principal, e.Host, e.Operation, e.Permission)).ToList();
                Print("Adding ACLs for resource", bindings);
                await admin.CreateAclsAsync(bindings, ct);
                return 0;
            }

            var removePattern = Pattern(r.GetValue(patternType), AclPatternType.Literal);
            // Without principals, --remove takes every ACL of the resources (kafka-acls.sh does the same).
            var removeFilters = entries.Count == 0
                ? resources.Select(res => new AclBindingFilter(res.Type, res.Name, removePattern)).ToList()
                : entries.Select(e => new AclBindingFilter(e.Resource.Type, e.Resource.Name, removePattern, e.Principal, e.Host, e.Operation, e.Permission)).ToList();
            if (!r.GetValue(force))
            {
                Console.Write($"Are you sure you want to remove ACLs from {string.Join(", ", resources.Select(x => $"{x.Type}:{x.Name}"))}? (y/n) ");
                if (!string.Equals(Console.ReadLine()?.Trim(), "y", StringComparison.OrdinalIgnoreCase))
                    return 1;
            }
            var removed = await admin.DeleteAclsAsync(removeFilters, ct);
            Print("Removed ACLs for resource", removed);
            return 0;
        }));
        return acls;
    }

    private static Option<string[]> Repeated(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };

    private readonly record struct Resource(AclResourceType Type, string Name);

    private readonly record struct Entry(Resource Resource, string Principal, string Host, AclOperation Operation, AclPermissionType Permission);

    private static List<Resource> Resources(string[]? topics, string[]? groups, bool cluster, string[]? transactionalIds)
    {
        var resources = new List<Resource>();
        resources.AddRange((topics ?? []).Select(t => new Resource(AclResourceType.Topic, t)));
        resources.AddRange((groups ?? []).Select(g => new Resource(AclResourceType.Group, g)));
        if (cluster)
            resources.Add(new Resource(AclResourceType.Cluster, AclBinding.ClusterResourceName));
        resources.AddRange((transactionalIds ?? []).Select(t => new Resource(AclResourceType.TransactionalId, t)));
        return resources;
    }

    private static List<Entry> Entries(ParseResult r, Option<string[]> allowPrincipal, Option<string[]> denyPrincipal, Option<string[]> allowHost,
        Option<string[]> denyHost, Option<string[]> operation, Option<bool> producer, Option<bool> consumer, Option<bool> idempotent, List<Resource> resources)
    {
        var entries = new List<Entry>();
        var people = (r.GetValue(allowPrincipal) ?? []).Select(p => (Principal: p, Permission: AclPermissionType.Allow, Hosts: Hosts(r.GetValue(allowHost))))
            .Concat((r.GetValue(denyPrincipal) ?? []).Select(p => (Principal: p, Permission: AclPermissionType.Deny, Hosts: Hosts(r.GetValue(denyHost)))))
            .ToList();
        foreach (var (principal, _, _) in people)
        {
            int colon = principal.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == principal.Length - 1)
                throw new ArgumentException($"'{principal}' is not a principal: write it as User:name (User:* for everyone).");
        }
        foreach (var resource in resources)
        {
            foreach (var op in Operations(r, operation, producer, consumer, idempotent, resource.Type))
            {
                foreach (var (principal, permission, hosts) in people)
                {
                    foreach (var host in hosts)
                        entries.Add(new Entry(resource, principal, host, op, permission));
                }
            }
        }
        // --producer --idempotent grants IdempotentWrite on the cluster, whichever resources were named.
        if (r.GetValue(producer) && r.GetValue(idempotent) && resources.All(x => x.Type != AclResourceType.Cluster))
        {
            foreach (var (principal, permission, hosts) in people)
            {
                foreach (var host in hosts)
                    entries.Add(new Entry(new Resource(AclResourceType.Cluster, AclBinding.ClusterResourceName), principal, host, AclOperation.IdempotentWrite, permission));
            }
        }
        return entries;
    }

    private static string[] Hosts(string[]? hosts) => hosts is { Length: > 0 } ? hosts : ["*"];

    private static IEnumerable<AclOperation> Operations(ParseResult r, Option<string[]> operation, Option<bool> producer, Option<bool> consumer, Option<bool> idempotent, AclResourceType type)
    {
        if (r.GetValue(producer) || r.GetValue(consumer))
        {
            var shortcut = new List<AclOperation>();
            if (r.GetValue(producer) && type == AclResourceType.Topic)
                shortcut.AddRange([AclOperation.Write, AclOperation.Describe, AclOperation.Create]);
            if (r.GetValue(producer) && type == AclResourceType.TransactionalId)
                shortcut.AddRange([AclOperation.Write, AclOperation.Describe]);
            if (r.GetValue(producer) && r.GetValue(idempotent) && type == AclResourceType.Cluster)
                shortcut.Add(AclOperation.IdempotentWrite);
            if (r.GetValue(consumer) && type == AclResourceType.Topic)
                shortcut.AddRange([AclOperation.Read, AclOperation.Describe]);
            if (r.GetValue(consumer) && type == AclResourceType.Group)
                shortcut.Add(AclOperation.Read);
            return shortcut.Distinct();
        }
        var named = r.GetValue(operation);
        if (named is not { Length: > 0 })
            return [AclOperation.All];
        return named.Select(ParseOperation);
    }

    private static AclOperation ParseOperation(string text)
    {
        var compact = text.Replace("_", "", StringComparison.Ordinal);
        if (Enum.TryParse<AclOperation>(compact, ignoreCase: true, out var op) && op is not (AclOperation.Unknown or AclOperation.Any) && Enum.IsDefined(op))
            return op;
        throw new ArgumentException($"--operation {text}: not an ACL operation (Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All).");
    }

    private static AclPatternType Pattern(string? text, AclPatternType fallback) => text?.ToLowerInvariant() switch
    {
        null => fallback,
        "literal" => AclPatternType.Literal,
        "prefixed" => AclPatternType.Prefixed,
        "any" => AclPatternType.Any,
        "match" => AclPatternType.Match,
        _ => throw new ArgumentException($"--resource-pattern-type {text}: give literal, prefixed, any or match."),
    };

    /// <summary>kafka-acls.sh's listing: one block per resource pattern, one line per entry.</summary>
    private static void Print(string heading, IEnumerable<AclBinding> bindings)
    {
        foreach (var resource in bindings.GroupBy(b => (b.ResourceType, b.ResourceName, b.PatternType)))
        {
            Console.WriteLine($"{heading} `ResourcePattern(resourceType={Upper(resource.Key.ResourceType)}, name={resource.Key.ResourceName}, patternType={Upper(resource.Key.PatternType)})`: ");
            foreach (var b in resource)
                Console.WriteLine($" \t(principal={b.Principal}, host={b.Host}, operation={Upper(b.Operation)}, permissionType={Upper(b.Permission)})");
            Console.WriteLine();
        }
    }

    /// <summary>Kafka's enum spelling: TRANSACTIONAL_ID, IDEMPOTENT_WRITE.</summary>
    private static string Upper<T>(T value) where T : struct, Enum =>
        string.Concat(value.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));
}
