using Samsa.Protocol.Primitives;

namespace Samsa.Client.Assignors;

/// <summary>
/// "sticky" (KIP-54): the balanced, sticky assignment of cooperative-sticky under the eager
/// protocol. Eager members give up everything before joining, so, like Kafka's StickyAssignor,
/// each member carries its previous assignment and generation in the subscription's user data
/// (Kafka's StickyAssignorUserData v1 layout, so Java members in the same group read ours and we
/// read theirs).
/// </summary>
public sealed class StickyAssignor : IPartitionAssignor
{
    /// <inheritdoc />
    public string Name => "sticky";

    /// <inheritdoc />
    public bool IsCooperative => false;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyList<MemberSubscription> members)
    {
        var withPrevious = members.Select(m => m.UserData is { Length: > 0 } data && TryDecode(data, out var previous, out int generation)
            ? m with { OwnedPartitions = previous, Generation = generation }
            : m with { OwnedPartitions = [] }).ToList();
        return CooperativeStickyAssignor.Balance(partitionsPerTopic, withPrevious, withholdMoved: false);
    }

    /// <inheritdoc />
    public byte[]? SubscriptionUserData(IReadOnlyCollection<TopicPartition> previousAssignment, int generation)
    {
        using var buffer = new PooledBufferWriter(64);
        var writer = new ProtocolWriter(buffer);
        var byTopic = previousAssignment.GroupBy(tp => tp.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        writer.WriteArrayLength(byTopic.Count, compact: false);
        foreach (var topic in byTopic)
        {
            writer.WriteString(topic.Key, compact: false);
            var partitions = topic.Select(tp => tp.Partition).Order().ToList();
            writer.WriteArrayLength(partitions.Count, compact: false);
            foreach (int p in partitions)
                writer.WriteInt32(p);
        }
        writer.WriteInt32(generation);
        return buffer.WrittenMemory.ToArray();
    }

    /// <summary>Reads StickyAssignorUserData v1 (v0, without the generation, too); false for anything else.</summary>
    internal static bool TryDecode(byte[] data, out List<TopicPartition> previous, out int generation)
    {
        previous = [];
        generation = -1;
        try
        {
            var reader = new ProtocolReader(data);
            int topics = reader.ReadArrayLength(compact: false);
            for (int i = 0; i < topics; i++)
            {
                string topic = reader.ReadString(compact: false);
                int count = reader.ReadArrayLength(compact: false);
                for (int j = 0; j < count; j++)
                    previous.Add(new TopicPartition(topic, reader.ReadInt32()));
            }
            if (reader.Remaining >= 4)
                generation = reader.ReadInt32();
            return true;
        }
        catch (Samsa.Protocol.ProtocolException)
        {
            previous = [];
            return false;
        }
    }
}
