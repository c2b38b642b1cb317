using Microsoft.Extensions.Logging;
using Samsa.Assignors;
using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// The target assignment for these members: the assignor most members asked for (or the first
    /// of group.consumer.assignors), given each member's subscribed topic ids and current target so
    /// it can stay sticky.
    /// </summary>
    private IReadOnlyDictionary<string, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> ComputeTarget(
        ConsumerGroup group,
        IReadOnlyList<ConsumerGroupMember> members,
        Func<ConsumerGroupMember, IReadOnlyDictionary<Guid, IReadOnlySet<int>>> currentTarget)
    {
        string preferred = ConsumerGroup.Preferred(members, AssignorNames);
        var assignor = _options.ConsumerAssignors.First(a => a.Name == preferred);
        var specs = new Dictionary<string, MemberSpec>(StringComparer.Ordinal);
        foreach (var m in members)
        {
            var ids = new HashSet<Guid>();
            foreach (var name in group.SubscribedTopicsOf(m))
            {
                if (_topics.TryGet(name, out var id, out _))
                    ids.Add(id);
            }
            specs[m.MemberId] = new MemberSpec(m.RackId, ids, currentTarget(m));
        }
        var result = assignor.Assign(new GroupSpec(specs), new CatalogTopics(_topics));
        return result.Members;
    }

    private IReadOnlyList<string> AssignorNames => _assignorNames ??= _options.ConsumerAssignors.Select(a => a.Name).ToList();

    private IReadOnlyList<string>? _assignorNames;

    private sealed class CatalogTopics(ITopicCatalog topics) : ITopicMetadata
    {
        public int PartitionCount(Guid topicId) => topics.PartitionCount(topicId);
    }

    /// <summary>
    /// True when the target assignment holds exactly the partitions that exist of the topics its
    /// members subscribe to: false once a topic was created, deleted or grew since it was computed.
    /// </summary>
    private bool TargetCoversTopics(ConsumerGroup group)
    {
        var expected = new HashSet<(Guid, int)>();
        foreach (var name in group.SubscribedTopicNames())
        {
            if (_topics.TryGet(name, out var id, out int partitions))
            {
                for (int p = 0; p < partitions; p++)
                    expected.Add((id, p));
            }
        }
        int assigned = 0;
        foreach (var target in group.Target.Values)
        {
            foreach (var (topic, partitions) in target)
            {
                foreach (int p in partitions)
                {
                    if (!expected.Contains((topic, p)))
                        return false;
                    assigned++;
                }
            }
        }
        return assigned == expected.Count;
    }

    /// <summary>
    /// Regular expressions nobody uses once the <paramref name="leaving"/> members stop using theirs
    /// (left, fenced, or a member whose regex changed to <paramref name="replacement"/>'s).
    /// </summary>
    private static IEnumerable<CoordinatorRecord> UnusedRegexTombstones(ConsumerGroup group, IReadOnlyCollection<ConsumerGroupMember> leaving, ConsumerGroupMember? replacement = null)
    {
        foreach (var regex in leaving.Select(m => m.SubscribedTopicRegex).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (replacement?.SubscribedTopicRegex == regex || !group.Regexes.ContainsKey(regex))
                continue;
            if (group.Members.Values.Any(m => m.SubscribedTopicRegex == regex && !leaving.Any(l => l.MemberId == m.MemberId)))
                continue;
            yield return ConsumerGroupRecords.RegexTombstone(group.GroupId, regex);
        }
    }

    private static IEnumerable<CoordinatorRecord> MemberTombstones(string groupId, string memberId) =>
    [
        ConsumerGroupRecords.CurrentTombstone(groupId, memberId),
        ConsumerGroupRecords.TargetTombstone(groupId, memberId),
        ConsumerGroupRecords.MemberTombstone(groupId, memberId),
    ];

    /// <summary>
    /// Removes a member (leave, session expiry, rebalance timeout): its records are tombstoned and
    /// the group epoch bumped, so the others get its partitions at their next heartbeat.
    /// </summary>
    private CoordinatorResult<T> FenceConsumerMember<T>(ConsumerGroup group, ConsumerGroupMember member, T response) =>
        FenceConsumerMembers(group, [member], response);

    /// <summary>
    /// Removes members; when only classic-protocol members would remain and the migration policy
    /// allows, the group goes back to being a classic group instead (Kafka's online downgrade).
    /// </summary>
    private CoordinatorResult<T> FenceConsumerMembers<T>(ConsumerGroup group, IReadOnlyList<ConsumerGroupMember> members, T response)
    {
        string groupId = group.GroupId;
        var ids = members.Select(m => m.MemberId).ToHashSet(StringComparer.Ordinal);
        void CancelAll()
        {
            foreach (var id in ids)
                CancelMemberTimers(groupId, id);
        }
        if (DowngradeWanted(group, ids))
        {
            var downgrade = DowngradeToClassicGroup(group, ids);
            return new CoordinatorResult<T>(response, downgrade, applied: () =>
            {
                foreach (var id in group.Members.Keys)
                    CancelMemberTimers(groupId, id);
                StartDowngradedGroup(groupId);
            });
        }
        var records = new List<CoordinatorRecord>();
        foreach (var member in members)
            records.AddRange(MemberTombstones(groupId, member.MemberId));
        records.AddRange(UnusedRegexTombstones(group, members));
        records.Add(ConsumerGroupRecords.Epoch(groupId, group.GroupEpoch + 1));
        return new CoordinatorResult<T>(response, records, applied: CancelAll);
    }

    private static string SessionTimerKey(string groupId, string memberId) => $"session-timeout-{groupId}-{memberId}";

    private static string RebalanceTimerKey(string groupId, string memberId) => $"rebalance-timeout-{groupId}-{memberId}";

    private void CancelMemberTimers(string groupId, string memberId)
    {
        CancelTimer(SessionTimerKey(groupId, memberId));
        CancelTimer(RebalanceTimerKey(groupId, memberId));
        CancelTimer(JoinTimerKey(groupId, memberId));
        CancelTimer(SyncTimerKey(groupId, memberId));
    }

    /// <summary>
    /// A member is fenced this long after its last request: group.consumer.session.timeout.ms, or
    /// the session timeout a classic-protocol member joined with.
    /// </summary>
    private void ScheduleSessionTimeout(string groupId, string memberId, TimeSpan timeout) =>
        ScheduleTimer(SessionTimerKey(groupId, memberId), timeout, () =>
        {
            if (_groups.GetValueOrDefault(groupId) is not ConsumerGroup group || group.Member(memberId) is not { } member)
                return [];
            _logger.LogInformation("Member {Member} of consumer group {Group} fenced: session timeout ({Timeout} ms) expired",
                memberId, groupId, timeout.TotalMilliseconds);
            return FenceConsumerMember(group, member, true).Records;
        });

    /// <summary>A member that does not revoke within its rebalance timeout is fenced, so its partitions can move.</summary>
    private void ScheduleRebalanceTimeout(string groupId, string memberId, int epoch, int timeoutMs) =>
        ScheduleTimer(RebalanceTimerKey(groupId, memberId), TimeSpan.FromMilliseconds(Math.Max(timeoutMs, 0)), () =>
        {
            if (_groups.GetValueOrDefault(groupId) is not ConsumerGroup group || group.Member(memberId) is not { } member
                || member.MemberEpoch != epoch || member.State != MemberState.UnrevokedPartitions)
                return [];
            _logger.LogInformation("Member {Member} of consumer group {Group} fenced: it did not revoke its partitions within its rebalance timeout ({Timeout} ms)",
                memberId, groupId, timeoutMs);
            return FenceConsumerMember(group, member, true).Records;
        });

    /// <summary>
    /// Kafka's consumer-group commit rule: the member's current epoch, from OffsetCommit v9 on
    /// (STALE_MEMBER_EPOCH); a classic-protocol member commits with its generation, the member
    /// epoch (ILLEGAL_GENERATION).
    /// </summary>
    private static ErrorCode ValidateConsumerCommit(ConsumerGroup group, string memberId, int epoch, short version)
    {
        if (epoch < 0 && group.IsEmpty)
            return ErrorCode.None;
        if (group.Member(memberId) is not { } member)
            return ErrorCode.UnknownMemberId;
        if (member.UsesClassicProtocol)
            return epoch == member.MemberEpoch ? ErrorCode.None : ErrorCode.IllegalGeneration;
        if (version < 9)
            return ErrorCode.UnsupportedVersion;
        return epoch == member.MemberEpoch ? ErrorCode.None : ErrorCode.StaleMemberEpoch;
    }

    private static ErrorCode ValidateConsumerFetch(ConsumerGroup group, string? memberId, int epoch)
    {
        if (memberId is null && epoch < 0)
            return ErrorCode.None;
        if (memberId is null || group.Member(memberId) is not { } member)
            return ErrorCode.UnknownMemberId;
        return epoch == member.MemberEpoch ? ErrorCode.None : ErrorCode.StaleMemberEpoch;
    }

    /// <summary>Everything of an empty consumer group, for DeleteGroups (offsets are tombstoned separately).</summary>
    private static IEnumerable<CoordinatorRecord> ConsumerGroupTombstones(ConsumerGroup group)
    {
        foreach (var regex in group.Regexes.Keys)
            yield return ConsumerGroupRecords.RegexTombstone(group.GroupId, regex);
        foreach (var memberId in group.Target.Keys)
            yield return ConsumerGroupRecords.TargetTombstone(group.GroupId, memberId);
        yield return ConsumerGroupRecords.TargetEpochTombstone(group.GroupId);
        yield return ConsumerGroupRecords.EpochTombstone(group.GroupId);
    }

    private static string RegexTimerKey(string groupId) => $"resolve-regexes-{groupId}";

    /// <summary>
    /// Resolves, after the request that brought it, every regex of the group that has no resolution
    /// yet: Kafka's background regex refresh. A member that subscribes to a new regex is first
    /// assigned its named topics, and the regex's topics from its next heartbeat, once this bumps the
    /// epoch — librdkafka's tests count on that order. One resolution at a time per group; it also
    /// runs for a regex left unresolved by a restart, on the next heartbeat that carries it.
    /// </summary>
    private void ScheduleRegexResolution(string groupId)
    {
        string key = RegexTimerKey(groupId);
        if (!HasTimer(key))
            ScheduleTimer(key, TimeSpan.Zero, () => ResolveRegexes(groupId));
    }

    private List<CoordinatorRecord> ResolveRegexes(string groupId)
    {
        var records = new List<CoordinatorRecord>();
        if (_groups.GetValueOrDefault(groupId) is not ConsumerGroup { Deleted: false } group)
            return records;
        bool bump = false;
        foreach (var regex in group.Members.Values.Select(m => m.SubscribedTopicRegex).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (group.Regexes.ContainsKey(regex))
                continue;
            var matched = TopicRegex.Resolve(regex, _topics.Names);
            records.Add(ConsumerGroupRecords.Regex(groupId, regex, matched, Now));
            // A regex that matches nothing changes no member's topics.
            bump |= matched.Count > 0;
        }
        if (bump)
        {
            records.Add(ConsumerGroupRecords.Epoch(groupId, group.GroupEpoch + 1));
            _logger.LogInformation("Consumer group {Group} moved to epoch {Epoch} (regex resolved)", groupId, group.GroupEpoch + 1);
        }
        return records;
    }

    /// <summary>
    /// Topics were created, deleted or grew: every consumer group subscribed to one of them (by name
    /// or by a regex that matches it now or did before) re-resolves its regexes and bumps its epoch.
    /// </summary>
    public void TopicsChanged(IReadOnlyCollection<string> topics) =>
        Run<bool>(() =>
        {
            var records = new List<CoordinatorRecord>();
            foreach (var group in _groups.Values.OfType<ConsumerGroup>())
            {
                if (group.Deleted || group.IsEmpty)
                    continue;
                bool concerned = false;
                foreach (var (regex, matched) in group.Regexes)
                {
                    var now = TopicRegex.Resolve(regex, _topics.Names);
                    if (!now.SequenceEqual(matched, StringComparer.Ordinal))
                    {
                        records.Add(ConsumerGroupRecords.Regex(group.GroupId, regex, now, Now));
                        concerned = true;
                    }
                }
                concerned |= group.SubscribedTopicNames().Overlaps(topics);
                if (concerned)
                    records.Add(ConsumerGroupRecords.Epoch(group.GroupId, group.GroupEpoch + 1));
            }
            ShareTopicsChanged(topics, records);
            return new CoordinatorResult<bool>(true, records);
        }, (_, _) => false);
}
