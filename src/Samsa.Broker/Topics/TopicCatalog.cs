using Samsa.Broker.Groups;

namespace Samsa.Broker.Topics;

/// <summary>The group coordinator's view of the broker's topics (ids, names, partition counts).</summary>
internal sealed class TopicCatalog(TopicManager topics) : ITopicCatalog
{
    public bool TryGet(string name, out Guid id, out int partitions)
    {
        if (topics.TryGet(name, out var topic))
        {
            id = topic.Id;
            partitions = topic.Partitions.Length;
            return true;
        }
        id = Guid.Empty;
        partitions = -1;
        return false;
    }

    public string? NameOf(Guid id) => topics.FindById(id)?.Name;

    public int PartitionCount(Guid id) => topics.FindById(id)?.Partitions.Length ?? -1;

    public IEnumerable<string> Names => topics.All.Where(t => !t.IsInternal).Select(t => t.Name);
}
