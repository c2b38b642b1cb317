using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// The group coordinator for the groups of one __consumer_offsets partition: classic groups
/// (this file and its Join/Members partials) and consumer groups (KIP-848, GroupShard.Consumer*).
/// Everything runs under one lock, requests and timers alike, through the runtime in
/// GroupShard.Runtime.cs: operations return records, the runtime appends and replays them, then
/// answers. Joins and syncs that must wait return tasks completed later by another member's request
/// or by a timer.
/// </summary>
internal sealed partial class GroupShard
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);

    /// <summary>Committed offsets per group id, kept apart from the groups (Kafka's OffsetMetadataManager).</summary>
    private readonly Dictionary<string, Dictionary<(string Topic, int Partition), CommittedOffset>> _offsets = new(StringComparer.Ordinal);
    private readonly GroupConfigs _configs;
    private readonly GroupCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly IOffsetsLog _log;
    private readonly ITopicCatalog _topics;
    private readonly ILogger _logger;

    public GroupShard(int partition, GroupCoordinatorOptions options, TimeProvider time, IOffsetsLog log, ITopicCatalog topics,
        ConcurrentDictionary<string, GroupView> views, GroupEvents events, ILogger logger, GroupConfigs? configs = null)
    {
        Partition = partition;
        _options = options;
        _configs = configs ?? GroupConfigs.InMemory(options);
        _time = time;
        _log = log;
        _topics = topics;
        _views = views;
        _events = events;
        _logger = logger;
    }

    public int Partition { get; }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private T Track<T>(T group)
        where T : Group
    {
        group.Tracker = _changed;
        _groups[group.GroupId] = group;
        group.MarkChanged();
        return group;
    }

    private void RemoveGroup(string groupId)
    {
        if (_groups.Remove(groupId))
            _removed.Add(groupId);
    }

    /// <summary>The classic group of that id, creating an empty one if there is no group at all.</summary>
    private ClassicGroup GetOrCreateClassic(string groupId)
    {
        if (_groups.TryGetValue(groupId, out var group))
            return group as ClassicGroup ?? throw new CoordinatorException(ErrorCode.InconsistentGroupProtocol, $"Group {groupId} is a {GroupTypes.Name(group.Type)} group.");
        return Track(new ClassicGroup(groupId, Now));
    }

    /// <summary>The classic group of that id, or null (also when the id names a group of another type).</summary>
    private ClassicGroup? Classic(string groupId) => _groups.GetValueOrDefault(groupId) as ClassicGroup;

    private bool _closed;

    /// <summary>
    /// A one-shot timer whose callback runs under the shard lock, not at all once the shard is
    /// closed, and never lets an exception escape onto the timer thread (that would end the process).
    /// </summary>
    private ITimer Schedule(TimeSpan due, Action action) =>
        _time.CreateTimer(_ =>
        {
            lock (_lock)
            {
                if (_closed)
                    return;
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Group coordinator timer failed in shard {Partition}", Partition);
                }
                finally
                {
                    PublishChanges();
                }
            }
        }, null, due, Timeout.InfiniteTimeSpan);

    /// <summary>Stops every timer and answers parked requests; called when the broker shuts down.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            foreach (var timer in _timers.Values)
                timer.Dispose();
            _timers.Clear();
            foreach (var group in _groups.Values.OfType<ClassicGroup>())
            {
                group.RebalanceTimer?.Dispose();
                foreach (var t in group.PendingMembers.Values)
                    t.Dispose();
                foreach (var m in group.Members.Values)
                {
                    m.SessionTimer?.Dispose();
                    m.PendingJoin?.TrySetResult(new JoinGroupResponse { ErrorCode = ErrorCode.CoordinatorNotAvailable, MemberId = m.MemberId, GenerationId = -1 });
                    m.PendingJoin = null;
                    CompleteSync(m, new SyncGroupResponse { ErrorCode = ErrorCode.CoordinatorNotAvailable });
                }
            }
        }
    }

    /// <summary>The record of a classic group at rest (Stable with these members, or Empty without).</summary>
    private static CoordinatorRecord GroupRecord(ClassicGroup group, int generation, string? protocol, string? leader, IEnumerable<GroupMember> members, Func<GroupMember, byte[]> assignment) =>
        new(OffsetsTopic.GroupKey(group.GroupId), OffsetsTopic.GroupValue(group, generation, protocol, leader, members, assignment, group.StateTimestamp));

    // ---- rebalancing core -------------------------------------------------------------------

    /// <summary>Moves the group into PreparingRebalance and arms the join deadline.</summary>
    private void PrepareRebalance(ClassicGroup group, string reason)
    {
        if (group.State == GroupState.CompletingRebalance)
        {
            // The assignment being synced is void: tell parked followers to rejoin.
            foreach (var m in group.Members.Values)
            {
                m.Assignment = [];
                CompleteSync(m, new SyncGroupResponse { ErrorCode = ErrorCode.RebalanceInProgress });
            }
        }
        group.RebalanceTimer?.Dispose();
        bool initial = group.State == GroupState.Empty;
        group.TransitionTo(GroupState.PreparingRebalance, Now);
        _logger.LogInformation("Group {Group} rebalancing (generation {Generation}): {Reason}", group.GroupId, group.Generation, reason);
        if (initial && _options.InitialRebalanceDelay > TimeSpan.Zero)
        {
            // group.initial.rebalance.delay.ms: let a fleet of consumers starting together join
            // one rebalance. Re-armed on each new member until the rebalance timeout is used up.
            group.InInitialDelay = true;
            var remaining = TimeSpan.FromMilliseconds(Math.Max(group.RebalanceTimeoutMs, 0)) - _options.InitialRebalanceDelay;
            ArmInitialDelay(group, _options.InitialRebalanceDelay, remaining);
        }
        else
        {
            group.InInitialDelay = false;
            group.RebalanceTimer = Schedule(TimeSpan.FromMilliseconds(Math.Max(group.RebalanceTimeoutMs, 1)), () => OnRebalanceTimeout(group));
            TryCompleteJoin(group);
        }
    }

    private void ArmInitialDelay(ClassicGroup group, TimeSpan delay, TimeSpan remaining)
    {
        group.RebalanceTimer?.Dispose();
        int members = group.Members.Count;
        group.RebalanceTimer = Schedule(delay, () =>
        {
            if (group.State != GroupState.PreparingRebalance || !group.InInitialDelay)
                return;
            if (group.Members.Count > members && remaining > TimeSpan.Zero)
            {
                var next = delay < remaining ? delay : remaining;
                ArmInitialDelay(group, next, remaining - next);
                return;
            }
            group.InInitialDelay = false;
            CompleteJoin(group);
        });
    }

    private void OnRebalanceTimeout(ClassicGroup group)
    {
        if (group.State == GroupState.PreparingRebalance && !group.InInitialDelay)
            CompleteJoin(group);
        else if (group.State == GroupState.CompletingRebalance)
            OnPendingSyncTimeout(group);
    }

    private void TryCompleteJoin(ClassicGroup group)
    {
        if (group.State == GroupState.PreparingRebalance && !group.InInitialDelay && group.AllMembersJoined)
            CompleteJoin(group);
    }

    /// <summary>
    /// Ends the join phase: drops dynamic members that did not rejoin, starts the next generation,
    /// picks the protocol and leader, and answers every parked join (the leader with everyone's
    /// subscriptions).
    /// </summary>
    private void CompleteJoin(ClassicGroup group)
    {
        group.RebalanceTimer?.Dispose();
        group.RebalanceTimer = null;
        foreach (var m in group.Members.Values.Where(m => m.PendingJoin is null && !m.IsStatic).ToList())
            RemoveMember(group, m, "did not rejoin before the rebalance timeout", rebalance: false);

        if (group.Members.Count == 0)
        {
            // Replaying a record of a group without members moves it to Empty (with the next generation).
            AppendAndReplay([GroupRecord(group, group.Generation + 1, null, null, [], _ => [])]);
            return;
        }
        group.Generation++;

        group.ProtocolName = group.SelectProtocol();
        if (group.LeaderId is null || !group.Members.ContainsKey(group.LeaderId))
            group.LeaderId = (group.Members.Values.FirstOrDefault(m => m.PendingJoin is not null) ?? group.Members.Values.First()).MemberId;
        group.TransitionTo(GroupState.CompletingRebalance, Now);
        foreach (var m in group.Members.Values)
        {
            if (m.PendingJoin is null)
                continue;
            m.PendingJoin.TrySetResult(JoinResult(group, m, m.JoinVersion, skipAssignment: false));
            m.PendingJoin = null;
            RestartSessionTimer(group, m);
        }
        // Members that never sync in time are dropped and the group rebalances again.
        group.RebalanceTimer = Schedule(TimeSpan.FromMilliseconds(Math.Max(group.RebalanceTimeoutMs, 1)), () => OnRebalanceTimeout(group));
    }

    private static JoinGroupResponse JoinResult(ClassicGroup group, GroupMember member, short version, bool skipAssignment)
    {
        bool leader = member.MemberId == group.LeaderId;
        return new JoinGroupResponse
        {
            GenerationId = group.Generation,
            ProtocolType = group.ProtocolType,
            ProtocolName = group.ProtocolName,
            Leader = group.LeaderId ?? "",
            SkipAssignment = skipAssignment,
            MemberId = member.MemberId,
            Members = leader
                ? group.Members.Values.Select(m => new JoinGroupResponse.JoinGroupResponseMember
                {
                    MemberId = m.MemberId,
                    GroupInstanceId = m.GroupInstanceId,
                    Metadata = m.MetadataFor(group.ProtocolName),
                }).ToList()
                : [],
        };
    }

    private void OnPendingSyncTimeout(ClassicGroup group)
    {
        var missing = group.Members.Values.Where(m => m.PendingSync is null && m.MemberId != group.LeaderId).ToList();
        if (group.Members.TryGetValue(group.LeaderId ?? "", out var leader))
            missing.Add(leader);
        foreach (var m in missing.Distinct())
            RemoveMember(group, m, "did not sync before the rebalance timeout", rebalance: false);
        if (group.State == GroupState.CompletingRebalance)
            PrepareRebalance(group, "members failed to sync");
    }

    private static void CompleteSync(GroupMember member, SyncGroupResponse response)
    {
        member.PendingSync?.TrySetResult(response);
        member.PendingSync = null;
    }

    // ---- membership -----------------------------------------------------------------------

    private void RestartSessionTimer(ClassicGroup group, GroupMember member)
    {
        member.SessionTimer?.Dispose();
        member.SessionTimer = Schedule(TimeSpan.FromMilliseconds(member.SessionTimeoutMs), () =>
        {
            if (group.Members.TryGetValue(member.MemberId, out var current) && ReferenceEquals(current, member) && member.PendingJoin is null)
                RemoveMember(group, member, $"session timeout ({member.SessionTimeoutMs} ms) expired", rebalance: true);
        });
    }

    /// <summary>Removes a member (leave, session expiry, rebalance timeout) and rebalances if asked.</summary>
    private void RemoveMember(ClassicGroup group, GroupMember member, string reason, bool rebalance)
    {
        var pendingJoin = member.PendingJoin;
        group.Remove(member);
        if (member.GroupInstanceId is not null && group.StaticMembers.TryGetValue(member.GroupInstanceId, out var id) && id == member.MemberId)
            group.StaticMembers.Remove(member.GroupInstanceId);
        member.SessionTimer?.Dispose();
        pendingJoin?.TrySetResult(new JoinGroupResponse { ErrorCode = ErrorCode.UnknownMemberId, MemberId = member.MemberId, GenerationId = -1 });
        CompleteSync(member, new SyncGroupResponse { ErrorCode = ErrorCode.UnknownMemberId });
        if (group.LeaderId == member.MemberId)
            group.LeaderId = group.Members.Values.FirstOrDefault(m => m.PendingJoin is not null)?.MemberId ?? group.Members.Keys.FirstOrDefault();
        _logger.LogInformation("Member {Member} left group {Group}: {Reason}", member.MemberId, group.GroupId, reason);
        if (!rebalance)
            return;
        switch (group.State)
        {
            case GroupState.Stable:
            case GroupState.CompletingRebalance:
                PrepareRebalance(group, $"member {member.MemberId} left: {reason}");
                break;
            case GroupState.PreparingRebalance:
                TryCompleteJoin(group);
                break;
        }
    }
}
