namespace Samsa.Client;

/// <summary>
/// A topic name and partition number. It lives in the assignors library, which the client
/// references, so that the client-side assignors and the consumer share one type; the namespace
/// stays <c>Samsa.Client</c> so that code written against the client is unaffected.
/// </summary>
public readonly record struct TopicPartition(string Topic, int Partition)
{
    /// <inheritdoc />
    public override string ToString() => $"{Topic}-{Partition}";
}
