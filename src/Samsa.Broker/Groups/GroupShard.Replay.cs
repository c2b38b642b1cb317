using System.Buffers.Binary;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// Applies one __consumer_offsets record. Committed offsets go through here both live (after the
    /// append) and at start-up; group metadata records rebuild groups at start-up (live, the group
    /// object already holds what the record says). A group restored with members is Stable and its
    /// members get a fresh session timeout to come back in, as after a Kafka coordinator failover.
    /// </summary>
    public void Replay(byte[] key, byte[]? value)
    {
        lock (_lock)
        {
            if (key.Length < 2)
                throw new ProtocolException("__consumer_offsets key without a version.");
            short keyVersion = BinaryPrimitives.ReadInt16BigEndian(key);
            switch (keyVersion)
            {
                case 0:
                case 1:
                {
                    var k = VersionedData.Read<OffsetCommitKey>(key, out _)!;
                    if (value is null)
                    {
                        if (_groups.TryGetValue(k.Group, out var g))
                            g.Offsets.Remove((k.Topic, k.Partition));
                        return;
                    }
                    var v = VersionedData.Read<OffsetCommitValue>(value, out _)!;
                    GetOrCreate(k.Group).Offsets[(k.Topic, k.Partition)] =
                        new CommittedOffset(v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp, v.ExpireTimestamp);
                    return;
                }
                case 2:
                {
                    var k = VersionedData.Read<GroupMetadataKey>(key, out _)!;
                    if (value is null)
                    {
                        if (_groups.TryGetValue(k.Group, out var dead) && dead.State == GroupState.Empty && dead.Members.Count == 0)
                            _groups.Remove(k.Group);
                        return;
                    }
                    if (!_loading)
                        return; // live path: the group object already holds what the record says
                    RestoreGroup(k.Group, VersionedData.Read<GroupMetadataValue>(value, out _)!);
                    return;
                }
                default:
                    // KIP-848 and share-group records: not produced by Samsa; skipped when loading.
                    return;
            }
        }
    }

    private void RestoreGroup(string groupId, GroupMetadataValue value)
    {
        var group = GetOrCreate(groupId);
        group.Generation = value.Generation;
        group.ProtocolType = value.ProtocolType.Length > 0 ? value.ProtocolType : null;
        group.ProtocolName = value.Protocol;
        group.LeaderId = value.Leader;
        foreach (var m in group.Members.Values)
            m.SessionTimer?.Dispose();
        foreach (var m in group.Members.Values.ToList())
            group.Remove(m);
        group.StaticMembers.Clear();
        foreach (var mm in value.Members)
        {
            var member = new GroupMember(mm.MemberId, mm.GroupInstanceId, mm.ClientId, mm.ClientHost)
            {
                SessionTimeoutMs = mm.SessionTimeout,
                RebalanceTimeoutMs = mm.RebalanceTimeout > 0 ? mm.RebalanceTimeout : mm.SessionTimeout,
                ProtocolType = value.ProtocolType,
                Protocols = [(value.Protocol ?? "", mm.Subscription)],
                Assignment = mm.Assignment,
            };
            group.Add(member);
            if (member.GroupInstanceId is not null)
                group.StaticMembers[member.GroupInstanceId] = member.MemberId;
        }
        group.Restore(group.Members.Count > 0 ? GroupState.Stable : GroupState.Empty, value.CurrentStateTimestamp >= 0 ? value.CurrentStateTimestamp : Now);
    }

    private bool _loading;

    /// <summary>Start-up: group metadata records are applied until <see cref="EndLoad"/>.</summary>
    public void BeginLoad()
    {
        lock (_lock)
            _loading = true;
    }

    /// <summary>After loading: members of restored groups must heartbeat within their session timeout.</summary>
    public void EndLoad()
    {
        lock (_lock)
        {
            _loading = false;
            foreach (var group in _groups.Values)
            {
                foreach (var member in group.Members.Values)
                    RestartSessionTimer(group, member);
            }
        }
    }
}
