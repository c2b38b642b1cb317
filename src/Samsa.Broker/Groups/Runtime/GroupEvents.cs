using System.Threading.Channels;

namespace Samsa.Broker.Groups.Runtime;

/// <summary>A group as it was after a change was applied, and as it was before (null when new).</summary>
internal sealed record GroupChange(GroupView? Before, GroupView? After)
{
    public string GroupId => (After ?? Before)!.GroupId;
}

/// <summary>
/// Fans applied group changes out to observers (the admin API, a console). Shards publish under
/// their lock without ever blocking: each subscriber has a bounded channel that drops its oldest
/// change when the reader falls behind, and every change carries the whole view, so a reader that
/// missed some still ends up with the latest state.
/// </summary>
internal sealed class GroupEvents
{
    private readonly Lock _lock = new();
    private Channel<GroupChange>[] _subscribers = [];

    public int Capacity { get; init; } = 4096;

    public void Publish(GroupChange change)
    {
        foreach (var channel in Volatile.Read(ref _subscribers))
            channel.Writer.TryWrite(change);
    }

    /// <summary>Changes from now on; dispose the subscription to stop.</summary>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<GroupChange>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_lock)
            _subscribers = [.. _subscribers, channel];
        return new Subscription(this, channel);
    }

    private void Remove(Channel<GroupChange> channel)
    {
        lock (_lock)
            _subscribers = _subscribers.Where(c => c != channel).ToArray();
        channel.Writer.TryComplete();
    }

    public sealed class Subscription(GroupEvents owner, Channel<GroupChange> channel) : IDisposable
    {
        public ChannelReader<GroupChange> Reader => channel.Reader;

        public void Dispose() => owner.Remove(channel);
    }
}
