using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Samsa.Broker.Groups;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Groups;

/// <summary>Topics the coordinator sees, changed by tests as CreateTopics/DeleteTopics/CreatePartitions would.</summary>
internal sealed class FakeTopics : ITopicCatalog
{
    private readonly Dictionary<string, (Guid Id, int Partitions)> _topics = new(StringComparer.Ordinal);

    public Guid Add(string name, int partitions)
    {
        var id = _topics.TryGetValue(name, out var existing) ? existing.Id : Guid.NewGuid();
        _topics[name] = (id, partitions);
        return id;
    }

    public void Remove(string name) => _topics.Remove(name);

    public Guid Id(string name) => _topics[name].Id;

    public bool TryGet(string name, out Guid id, out int partitions)
    {
        if (_topics.TryGetValue(name, out var t))
        {
            (id, partitions) = t;
            return true;
        }
        (id, partitions) = (Guid.Empty, -1);
        return false;
    }

    public string? NameOf(Guid id) => _topics.FirstOrDefault(t => t.Value.Id == id).Key;

    public int PartitionCount(Guid id) => _topics.Values.FirstOrDefault(t => t.Id == id) is { Id: var found, Partitions: var n } && found == id ? n : -1;

    public IEnumerable<string> Names => _topics.Keys;
}

/// <summary>
/// A coordinator on fake time with KIP-848 members that behave like a well-written client: each
/// heartbeat reports what it owns, revokes what it is no longer assigned before the next one, and
/// adopts the epoch and assignment it is told.
/// </summary>
internal sealed class ConsumerGroupHarness
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    public MemoryOffsetsLog Log { get; } = new();

    public FakeTopics Topics { get; } = new();

    public GroupCoordinatorOptions Options { get; }

    public GroupCoordinator Coordinator { get; private set; }

    public ConsumerGroupHarness(GroupCoordinatorOptions? options = null)
    {
        Options = options ?? new GroupCoordinatorOptions
        {
            OffsetsTopicPartitions = 3,
            ConsumerSessionTimeout = TimeSpan.FromSeconds(10),
            ConsumerHeartbeatInterval = TimeSpan.FromSeconds(1),
        };
        Coordinator = new GroupCoordinator(Options, Time, Log, NullLogger.Instance, Topics);
    }

    /// <summary>A coordinator rebuilt from the log, as after a broker restart.</summary>
    public void Restart()
    {
        Coordinator.Dispose();
        Coordinator = new GroupCoordinator(Options, Time, Log, NullLogger.Instance, Topics);
        Coordinator.Load(Log.Read);
    }

    public GroupView? View(string group) => Coordinator.View(group);

    public ConsumerGroupHeartbeatResponse Heartbeat(ConsumerGroupHeartbeatRequest request, short version = 1) =>
        Coordinator.ShardFor(request.GroupId).ConsumerGroupHeartbeat(request, version, "client", "/127.0.0.1");

    public Member NewMember(string group, string memberId, string[] topics, string? instanceId = null, string? regex = null) =>
        new(this, group, memberId, topics, instanceId, regex);

    internal sealed class Member(ConsumerGroupHarness h, string group, string memberId, string[] topics, string? instanceId, string? regex)
    {
        public string MemberId { get; private set; } = memberId;
        public int Epoch { get; private set; }
        public Dictionary<Guid, HashSet<int>> Owned { get; } = [];
        public ErrorCode LastError { get; private set; }
        public string? InstanceId { get; } = instanceId;
        public bool Joined { get; private set; }

        public ConsumerGroupHarness Harness => h;

        public string[] Topics => topics;

        private bool _subscriptionChanged;

        /// <summary>Changes the subscription; the next heartbeat carries it (as a client sends it).</summary>
        public void Subscribe(string[] names, string? regex = null)
        {
            topics = names;
            regexValue = regex;
            _subscriptionChanged = true;
        }

        private string? regexValue = regex;

        /// <summary>Partitions owned, as "topic-partition" strings, sorted.</summary>
        public IReadOnlyList<string> Partitions => Owned.SelectMany(t => t.Value.Select(p => $"{h.Topics.NameOf(t.Key)}-{p}")).Order(StringComparer.Ordinal).ToList();

        public int Count => Owned.Values.Sum(s => s.Count);

        /// <summary>One heartbeat: a join at epoch 0 the first time, then the member's epoch and owned partitions.</summary>
        public ConsumerGroupHeartbeatResponse Beat(int? epoch = null)
        {
            bool first = !Joined;
            var response = h.Heartbeat(new ConsumerGroupHeartbeatRequest
            {
                GroupId = group,
                MemberId = MemberId,
                MemberEpoch = epoch ?? (first ? 0 : Epoch),
                InstanceId = InstanceId,
                RebalanceTimeoutMs = first ? 30_000 : -1,
                SubscribedTopicNames = first || _subscriptionChanged ? [.. topics] : null,
                SubscribedTopicRegex = first || _subscriptionChanged ? regexValue ?? (first ? null : "") : null,
                TopicPartitions = first ? [] : Owned.Select(t => new ConsumerGroupHeartbeatRequest.OwnedTopicPartitions { TopicId = t.Key, Partitions = [.. t.Value] }).ToList(),
            });
            LastError = response.ErrorCode;
            if (response.ErrorCode != ErrorCode.None)
                return response;
            Joined = true;
            _subscriptionChanged = false;
            MemberId = response.MemberId ?? MemberId;
            Epoch = response.MemberEpoch;
            if (response.Assignment is { } assignment)
            {
                Owned.Clear();
                foreach (var t in assignment.TopicPartitions)
                    Owned[t.TopicId] = [.. t.Partitions];
            }
            return response;
        }

        public ConsumerGroupHeartbeatResponse Leave(int epoch = -1) => h.Heartbeat(new ConsumerGroupHeartbeatRequest
        {
            GroupId = group,
            MemberId = MemberId,
            MemberEpoch = epoch,
            InstanceId = InstanceId,
        });

        /// <summary>Gives up what the coordinator no longer assigns (what a client does in its revoke callback).</summary>
        public void Revoke(IEnumerable<(Guid Topic, int Partition)> partitions)
        {
            foreach (var (topic, p) in partitions)
                Owned.GetValueOrDefault(topic)?.Remove(p);
        }
    }
}
