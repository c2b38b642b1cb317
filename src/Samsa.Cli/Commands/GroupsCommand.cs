using System.CommandLine;
using System.Globalization;
using Samsa.Client.Admin;

namespace Samsa.Cli.Commands;

/// <summary><c>samsa groups list|describe|delete|reset-offsets</c>, like kafka-consumer-groups.sh (and kafka-share-groups.sh for share groups).</summary>
internal static partial class GroupsCommand
{
    public static Command Create()
    {
        var groups = new Command("groups", "List, describe, delete groups (classic, consumer, share) and reset consumer groups' offsets.");
        var bootstrap = Common.Bootstrap();
        var output = Common.Output();
        var verbose = Common.Verbose();
        var commandConfig = ClientProperties.CommandConfig();
        foreach (var o in new Option[] { bootstrap, output, verbose, commandConfig })
        {
            o.Recursive = true;
            groups.Options.Add(o);
        }
        KafkaAdminClient Admin(ParseResult r) => new(ClientProperties.Admin(r, bootstrap, commandConfig));
        static string N(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "-";
        static string TypeName(GroupType t) => t switch { GroupType.Classic => "classic", GroupType.Consumer => "consumer", GroupType.Share => "share", _ => "-" };

        var state = new Option<string[]>("--state") { Description = "only groups in these states (Stable, Empty, ...)" };
        var type = new Option<string[]>("--type") { Description = "only groups of these types: classic, consumer, share (needs ListGroups v5, Kafka 3.7+)" };
        var list = new Command("list", "List groups with their type and state.") { state, type };
        list.SetAction((r, ct) => Common.RunAsync(r, verbose, "groups list", async () =>
        {
            await using var admin = Admin(r);
            var types = (r.GetValue(type) ?? []).Select(t => t.ToLowerInvariant() switch
            {
                "classic" => GroupType.Classic,
                "consumer" => GroupType.Consumer,
                "share" => GroupType.Share,
                _ => throw new ArgumentException($"--type: '{t}' is not a group type (classic, consumer or share)."),
            }).ToList();
            var all = await admin.ListGroupsAsync(r.GetValue(state) is { Length: > 0 } s ? s : null, types.Count > 0 ? types : null, ct);
            if (r.GetValue(output) == "json")
                Common.Json(all);
            else
                Common.Table(["GROUP", "TYPE", "STATE", "PROTOCOL TYPE"], all.Select(g => (IReadOnlyList<string>)[g.GroupId, TypeName(g.Type), g.State.Length == 0 ? "-" : g.State, g.ProtocolType]));
            return 0;
        }));

        var describeId = new Argument<string>("group");
        var describe = new Command("describe", "Show a group's type, state, members (with epochs for consumer and share groups), assignments, committed offsets and lag (a share group's start offsets and records not yet done).") { describeId };
        describe.SetAction((r, ct) => Common.RunAsync(r, verbose, "groups describe", async () =>
        {
            await using var admin = Admin(r);
            string id = r.GetValue(describeId)!;
            var group = await DescribeAnyAsync(admin, id, ct);
            if (group.Type == GroupType.Share)
                return await DescribeShareAsync(admin, group, r.GetValue(output) == "json", ct);
            var lag = await admin.ListGroupOffsetsAsync(id, ct);
            var owner = group.Members.SelectMany(m => m.Assignment.Select(p => (p, m))).ToDictionary(x => x.p, x => x.m);
            if (r.GetValue(output) == "json")
            {
                Common.Json(new { group, Offsets = lag.Select(l => new { l.Partition.Topic, l.Partition.Partition, l.Committed, l.LogEndOffset, Lag = l.Committed is null ? (long?)null : l.Lag }) });
                return 0;
            }
            static string Partitions(IEnumerable<Samsa.Client.TopicPartition> ps) => string.Join(",", ps.Select(p => p.ToString())) is { Length: > 0 } s ? s : "-";
            if (group.Type == GroupType.Consumer)
            {
                Console.WriteLine($"Group {group.GroupId}: consumer group, {group.State}, assignor {(group.Assignor.Length == 0 ? "-" : group.Assignor)}, " +
                    $"group epoch {N(group.GroupEpoch)}, assignment epoch {N(group.AssignmentEpoch)}, {group.Members.Count} member(s)");
                Console.WriteLine();
                Common.Table(["MEMBER", "INSTANCE", "CLIENT", "HOST", "EPOCH", "SUBSCRIBED", "PARTITIONS", "TARGET"], group.Members.Select(m => (IReadOnlyList<string>)[
                    m.MemberId, m.GroupInstanceId ?? "-", m.ClientId, m.Host, N(m.MemberEpoch),
                    string.Join(",", m.SubscribedTopics.Concat(m.SubscribedTopicRegex is { } re ? [$"/{re}/"] : [])) is { Length: > 0 } sub ? sub : "-",
                    Partitions(m.Assignment), Partitions(m.TargetAssignment ?? [])]));
            }
            else
            {
                Console.WriteLine($"Group {group.GroupId}: classic group, {group.State}, protocol {(group.Protocol.Length == 0 ? "-" : group.Protocol)}, {group.Members.Count} member(s)");
                Console.WriteLine();
                Common.Table(["MEMBER", "INSTANCE", "CLIENT", "HOST", "PARTITIONS"], group.Members.Select(m => (IReadOnlyList<string>)[
                    m.MemberId, m.GroupInstanceId ?? "-", m.ClientId, m.Host, string.Join(",", m.Assignment.Select(p => p.ToString()))]));
            }
            Console.WriteLine();
            Common.Table(["TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG", "OWNER"], lag.Select(l => (IReadOnlyList<string>)[
                // No committed offset: no lag to speak of either, as kafka-consumer-groups.sh shows it.
                l.Partition.Topic, N(l.Partition.Partition), N(l.Committed), N(l.LogEndOffset), l.Committed is null ? "-" : N(l.Lag),
                owner.TryGetValue(l.Partition, out var m) ? m.ClientId : "-"]));
            return 0;
        }));

        var deleteId = new Argument<string>("group");
        var delete = new Command("delete", "Delete an empty group and its offsets (a share group and its share state).") { deleteId };
        delete.SetAction((r, ct) => Common.RunAsync(r, verbose, "groups delete", async () =>
        {
            await using var admin = Admin(r);
            await admin.DeleteGroupsAsync([r.GetValue(deleteId)!], ct);
            Console.WriteLine($"Deleted group {r.GetValue(deleteId)}.");
            return 0;
        }));

        var resetId = new Argument<string>("group");
        var topic = new Option<string[]>("--topic") { Description = "topics to reset (default: every topic the group committed)" };
        var toEarliest = new Option<bool>("--to-earliest");
        var toLatest = new Option<bool>("--to-latest");
        var toOffset = new Option<long?>("--to-offset");
        var toDatetime = new Option<string?>("--to-datetime") { Description = "e.g. 2026-11-24T10:00:00Z" };
        var shiftBy = new Option<long?>("--shift-by");
        var execute = new Option<bool>("--execute") { Description = "apply the plan (without it: a dry run)" };
        var reset = new Command("reset-offsets", "Move a stopped group's committed offsets (a share group's start offsets).") { resetId, topic, toEarliest, toLatest, toOffset, toDatetime, shiftBy, execute };
        reset.SetAction((r, ct) => Common.RunAsync(r, verbose, "groups reset-offsets", async () =>
        {
            var specs = new List<OffsetResetSpec>();
            if (r.GetValue(toEarliest))
                specs.Add(new OffsetResetSpec.ToEarliest());
            if (r.GetValue(toLatest))
                specs.Add(new OffsetResetSpec.ToLatest());
            if (r.GetValue(toOffset) is { } o)
                specs.Add(new OffsetResetSpec.ToOffset(o));
            if (r.GetValue(shiftBy) is { } s)
                specs.Add(new OffsetResetSpec.ShiftBy(s));
            if (r.GetValue(toDatetime) is { } d)
            {
                if (!DateTimeOffset.TryParse(d, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                    throw new FormatException($"--to-datetime: '{d}' is not a date and time (try 2026-11-24T10:00:00Z).");
                specs.Add(new OffsetResetSpec.ToDateTime(at));
            }
            if (specs.Count != 1)
                throw new ArgumentException("Give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by.");
            await using var admin = Admin(r);
            bool apply = r.GetValue(execute);
            string id = r.GetValue(resetId)!;
            var topics = r.GetValue(topic) is { Length: > 0 } t ? t : null;
            // A share group's start offsets move by AlterShareGroupOffsets (kafka-share-groups.sh --reset-offsets).
            var plan = (await DescribeAnyAsync(admin, id, ct)).Type == GroupType.Share
                ? await admin.ResetShareGroupOffsetsAsync(id, specs[0], topics, apply, ct)
                : await admin.ResetGroupOffsetsAsync(id, specs[0], topics, apply, ct);
            if (r.GetValue(output) == "json")
                Common.Json(plan.Select(p => new { p.Key.Topic, p.Key.Partition, NewOffset = p.Value }));
            else
                Common.Table(["TOPIC", "PARTITION", "NEW-OFFSET"], plan.OrderBy(p => p.Key.Topic, StringComparer.Ordinal).ThenBy(p => p.Key.Partition)
                    .Select(p => (IReadOnlyList<string>)[p.Key.Topic, N(p.Key.Partition), N(p.Value)]));
            Console.WriteLine(apply ? "Offsets reset." : "Dry run: nothing changed. Add --execute to apply.");
            return 0;
        }));

        foreach (var c in new[] { list, describe, delete, reset })
            groups.Subcommands.Add(c);
        return groups;
    }
}
