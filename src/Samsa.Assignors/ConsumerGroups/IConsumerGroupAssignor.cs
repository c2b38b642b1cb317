namespace Samsa.Assignors;

/// <summary>
/// A KIP-848 server-side assignor ("uniform", "range"): the group coordinator calls it with the
/// members' subscriptions and their current target assignments and stores what it returns as the
/// new target assignment.
/// </summary>
public interface IConsumerGroupAssignor
{
    /// <summary>The name members ask for in ConsumerGroupHeartbeat's <c>ServerAssignor</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Computes the target assignment. Pure: the same spec and metadata give the same assignment,
    /// whatever the order the dictionaries enumerate in.
    /// </summary>
    GroupAssignment Assign(GroupSpec group, ITopicMetadata topics);
}

/// <summary>The topic metadata an assignor sees: partition counts by topic id.</summary>
public interface ITopicMetadata
{
    /// <summary>Partition count of a topic, or -1 when the topic does not exist (then nothing of it is assigned).</summary>
    int PartitionCount(Guid topicId);
}

/// <summary>The server-side assignors by name.</summary>
public static class ConsumerGroupAssignors
{
    private static readonly string[] AllNames = [UniformConsumerGroupAssignor.AssignorName, RangeConsumerGroupAssignor.AssignorName];

    /// <summary>"uniform" or "range"; throws <see cref="ArgumentException"/> naming the unknown name.</summary>
    public static IConsumerGroupAssignor Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name switch
        {
            UniformConsumerGroupAssignor.AssignorName => new UniformConsumerGroupAssignor(),
            RangeConsumerGroupAssignor.AssignorName => new RangeConsumerGroupAssignor(),
            _ => throw new ArgumentException($"Unknown group.consumer.assignors name '{name}' (expected uniform or range).", nameof(name)),
        };
    }

    /// <summary>The known names, Kafka's default ("uniform") first.</summary>
    public static IReadOnlyList<string> Names => AllNames;
}
