using System.Globalization;
using Samsa.Client.Admin;
using Samsa.Client.Errors;

namespace Samsa.Cli.Commands;

/// <summary><c>samsa groups describe</c> of a share group (KIP-932), as kafka-share-groups.sh --describe --members and --offsets.</summary>
internal static partial class GroupsCommand
{
    /// <summary>
    /// The group as DescribeGroupAsync (classic and consumer groups) knows it or, when it does not
    /// know the id, as a share group; a broker without share groups just does not know the group.
    /// </summary>
    private static async Task<GroupDescription> DescribeAnyAsync(KafkaAdminClient admin, string id, CancellationToken ct)
    {
        try
        {
            var group = await admin.DescribeGroupAsync(id, ct);
            if (group.State != "Dead")
                return group;
        }
        catch (GroupNotFoundException)
        {
            // Not a classic or consumer group (Kafka answers GROUP_ID_NOT_FOUND for a share group's id).
        }
        try
        {
            return await admin.DescribeShareGroupAsync(id, ct);
        }
        catch (UnsupportedVersionException)
        {
            throw new GroupNotFoundException($"No such group {id} (and the broker has no share groups).");
        }
    }

    /// <summary>
    /// The share group's members with what each is assigned (several members may share a
    /// partition), then per partition the share-partition start offset, the log end and the records
    /// in between not yet acknowledged or archived: KIP-932 tells no finer in-flight count (how many
    /// of them a member holds right now) over the wire.
    /// </summary>
    private static async Task<int> DescribeShareAsync(KafkaAdminClient admin, GroupDescription group, bool json, CancellationToken ct)
    {
        var offsets = await admin.ListShareGroupOffsetsAsync(group.GroupId, ct);
        var sharers = group.Members.SelectMany(m => m.Assignment).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        // Partitions assigned but not fetched yet have no state: shown with dashes.
        var rows = offsets.Concat(sharers.Keys.Where(p => !offsets.Any(o => o.Partition == p)).Select(p => new SharePartitionOffsets(p, null, null, -1)))
            .OrderBy(o => o.Partition.Topic, StringComparer.Ordinal).ThenBy(o => o.Partition.Partition).ToList();
        if (json)
        {
            Common.Json(new
            {
                group,
                Offsets = rows.Select(o => new
                {
                    o.Partition.Topic,
                    o.Partition.Partition,
                    o.StartOffset,
                    LogEndOffset = o.LogEndOffset < 0 ? (long?)null : o.LogEndOffset,
                    o.Lag,
                    o.CompletedAhead,
                    Members = sharers.GetValueOrDefault(o.Partition),
                }),
            });
            return 0;
        }
        static string N(long? n) => n is { } v and >= 0 ? v.ToString(CultureInfo.InvariantCulture) : "-";
        Console.WriteLine($"Group {group.GroupId}: share group, {group.State}, assignor {(group.Assignor.Length == 0 ? "-" : group.Assignor)}, "
            + $"group epoch {N(group.GroupEpoch)}, assignment epoch {N(group.AssignmentEpoch)}, {group.Members.Count} member(s)");
        Console.WriteLine();
        Common.Table(["MEMBER", "CLIENT", "HOST", "EPOCH", "SUBSCRIBED", "PARTITIONS"], group.Members.Select(m => (IReadOnlyList<string>)[
            m.MemberId, m.ClientId, m.Host, N(m.MemberEpoch),
            m.SubscribedTopics.Count > 0 ? string.Join(",", m.SubscribedTopics) : "-",
            m.Assignment.Count > 0 ? string.Join(",", m.Assignment.Select(p => p.ToString())) : "-"]));
        Console.WriteLine();
        Common.Table(["TOPIC", "PARTITION", "START-OFFSET", "LOG-END", "LAG", "DONE-AHEAD", "MEMBERS"], rows.Select(o => (IReadOnlyList<string>)[
            o.Partition.Topic, N(o.Partition.Partition), N(o.StartOffset), N(o.LogEndOffset), N(o.Lag), N(o.CompletedAhead),
            N(sharers.GetValueOrDefault(o.Partition))]));
        Console.WriteLine("LAG: records from START-OFFSET to LOG-END not yet acknowledged or archived: held by a member, released for another delivery, or not delivered yet.");
        Console.WriteLine("DONE-AHEAD: records past START-OFFSET already acknowledged or archived; the start offset moves past them once every record before them is done.");
        return 0;
    }
}
