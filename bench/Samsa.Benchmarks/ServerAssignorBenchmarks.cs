using BenchmarkDotNet.Attributes;
using Samsa.Assignors;

namespace Samsa.Benchmarks;

/// <summary>
/// The KIP-848 server-side assignors on 1,000 members and 100 topics × 100 partitions: a fresh
/// assignment, and the same group after one member joins (every other member's current
/// assignment being the fresh result, as the coordinator stores it). Homogeneous: everyone
/// subscribes to every topic. Heterogeneous: ten subscription patterns of 50 overlapping topics
/// each (member i takes topics (i % 10) * 10 onwards, wrapping), so every topic has 500
/// subscribers and every member shares topics with every pattern but one.
/// </summary>
[MemoryDiagnoser]
public class ServerAssignorBenchmarks
{
    private const int Members = 1000, Topics = 100, PartitionsPerTopic = 100;

    private sealed class Metadata(Dictionary<Guid, int> counts) : ITopicMetadata
    {
        public int PartitionCount(Guid topicId) => counts.TryGetValue(topicId, out int n) ? n : -1;
    }

    [Params("uniform", "range")]
    public string Assignor { get; set; } = "uniform";

    [Params(false, true)]
    public bool Heterogeneous { get; set; }

    private IConsumerGroupAssignor _assignor = null!;
    private Metadata _metadata = null!;
    private GroupSpec _fresh = null!, _oneJoined = null!;

    [GlobalSetup]
    public void Setup()
    {
        _assignor = ConsumerGroupAssignors.Create(Assignor);
        var topicIds = Enumerable.Range(0, Topics).Select(t => new Guid(t + 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).ToArray();
        _metadata = new Metadata(topicIds.ToDictionary(t => t, _ => PartitionsPerTopic));
        var subscriptions = Enumerable.Range(0, Members + 1).Select(i => Subscription(topicIds, i)).ToArray();
        var empty = new Dictionary<Guid, IReadOnlySet<int>>();
        _fresh = new GroupSpec(Enumerable.Range(0, Members).ToDictionary(Id, i => new MemberSpec(null, subscriptions[i], empty)));
        var current = _assignor.Assign(_fresh, _metadata).Members;
        _oneJoined = new GroupSpec(Enumerable.Range(0, Members + 1).ToDictionary(Id, i =>
            new MemberSpec(null, subscriptions[i], i < Members ? current[Id(i)] : empty)));
    }

    [Benchmark]
    public GroupAssignment Fresh() => _assignor.Assign(_fresh, _metadata);

    [Benchmark]
    public GroupAssignment OneJoins() => _assignor.Assign(_oneJoined, _metadata);

    private HashSet<Guid> Subscription(Guid[] topicIds, int member) => Heterogeneous
        ? [.. Enumerable.Range(0, Topics / 2).Select(k => topicIds[(member % 10 * 10 + k) % Topics])]
        : [.. topicIds];

    // KIP-848 member ids are client-generated UUIDs; what matters here is only that they are distinct.
    private static string Id(int member) => $"member-{member:D4}-{member * 7919 % 10007:D5}";
}
