using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>DescribeGroups for one group. Member metadata and assignments are only filled when Stable (Kafka's rule).</summary>
    public DescribeGroupsResponse.DescribedGroup Describe(string groupId, short version)
    {
        lock (_lock)
        {
            if (!_groups.TryGetValue(groupId, out var group) || group.State == GroupState.Dead)
            {
                return new DescribeGroupsResponse.DescribedGroup
                {
                    GroupId = groupId,
                    GroupState = "Dead",
                    ErrorCode = version >= 6 ? ErrorCode.GroupIdNotFound : ErrorCode.None,
                    ErrorMessage = version >= 6 ? $"Group {groupId} not found." : null,
                };
            }
            bool stable = group.State == GroupState.Stable;
            return new DescribeGroupsResponse.DescribedGroup
            {
                GroupId = groupId,
                GroupState = GroupStates.Name(group.State),
                ProtocolType = group.ProtocolType ?? "",
                ProtocolData = stable ? group.ProtocolName ?? "" : "",
                Members = group.Members.Values.Select(m => new DescribeGroupsResponse.DescribedGroupMember
                {
                    MemberId = m.MemberId,
                    GroupInstanceId = m.GroupInstanceId,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    MemberMetadata = stable ? m.MetadataFor(group.ProtocolName) : [],
                    MemberAssignment = stable ? m.Assignment : [],
                }).ToList(),
            };
        }
    }

    public IEnumerable<ListGroupsResponse.ListedGroup> List()
    {
        lock (_lock)
        {
            return _groups.Values.Where(g => g.State != GroupState.Dead).Select(g => new ListGroupsResponse.ListedGroup
            {
                GroupId = g.GroupId,
                ProtocolType = g.ProtocolType ?? "",
                GroupState = GroupStates.Name(g.State),
                GroupType = "classic",
            }).ToList();
        }
    }

    /// <summary>DeleteGroups: only empty groups; removes the group and its offsets (tombstones).</summary>
    public ErrorCode DeleteGroup(string groupId)
    {
        lock (_lock)
        {
            if (!_groups.TryGetValue(groupId, out var group) || group.State == GroupState.Dead)
                return ErrorCode.GroupIdNotFound;
            if (group.State != GroupState.Empty)
                return ErrorCode.NonEmptyGroup;
            DeleteGroupLocked(group);
            return ErrorCode.None;
        }
    }

    private void DeleteGroupLocked(ClassicGroup group)
    {
        var records = group.Offsets.Keys.Select(k => (OffsetsTopic.OffsetKey(group.GroupId, k.Topic, k.Partition), (byte[]?)null)).ToList();
        records.Add((OffsetsTopic.GroupKey(group.GroupId), null));
        _log.Append(Partition, records);
        foreach (var (key, value) in records)
            Replay(key, value);
        group.RebalanceTimer?.Dispose();
        group.TransitionTo(GroupState.Dead, Now);
        _groups.Remove(group.GroupId);
    }
}
