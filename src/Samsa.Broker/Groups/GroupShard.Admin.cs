using Samsa.Broker.Groups.Consumer;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// DeleteGroups: only groups without members; removes the group and its offsets (tombstones),
    /// and for a share group its share-partition state.
    /// </summary>
    public ErrorCode DeleteGroup(string groupId) =>
        Run<ErrorCode>(() =>
        {
            if (!_groups.TryGetValue(groupId, out var group) || group.IsDead)
                return ErrorCode.GroupIdNotFound;
            if (!group.IsEmpty)
                return ErrorCode.NonEmptyGroup;
            DeleteGroupLocked(group);
            return ErrorCode.None;
        }, (error, _) => error);

    private void DeleteGroupLocked(Group group)
    {
        var records = new List<CoordinatorRecord>();
        if (_offsets.TryGetValue(group.GroupId, out var offsets))
            records.AddRange(offsets.Keys.Select(k => new CoordinatorRecord(OffsetsTopic.OffsetKey(group.GroupId, k.Topic, k.Partition), null)));
        if (group is ConsumerGroup consumer)
            records.AddRange(ConsumerGroupTombstones(consumer));
        else if (group is Share.ShareGroup share)
            records.AddRange(ShareGroupTombstones(share));
        else
            records.Add(new(OffsetsTopic.GroupKey(group.GroupId), null));
        AppendAndReplay(records);
        RemoveGroup(group.GroupId);
        if (group is Share.ShareGroup)
            ShareListener?.GroupDeleted(group.GroupId);
    }
}
