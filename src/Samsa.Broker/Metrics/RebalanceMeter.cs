using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Runtime;

namespace Samsa.Broker.Metrics;

/// <summary>
/// Counts completed rebalances and times them, for every broker whether or not its console runs:
/// a reader of the coordinator's <see cref="GroupEvents"/> on its own task, so shards never wait
/// for it (their channel drops the oldest change when it lags). A rebalance runs from its start
/// (<see cref="Started"/>) to the group's next Stable; one that ends Empty is not counted.
/// </summary>
internal sealed class RebalanceMeter : IDisposable
{
    private readonly BrokerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GroupEvents.Subscription _subscription;
    private readonly Dictionary<string, DateTimeOffset> _open = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public RebalanceMeter(BrokerMetrics metrics, GroupEvents events, TimeProvider time, ILogger logger)
    {
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _subscription = events.Subscribe();
        _loop = Task.Run(ReadAsync);
    }

    /// <summary>
    /// Classic groups rebalance through PreparingRebalance and CompletingRebalance (one request can
    /// pass both, and a view shows only where it ended); the consumer protocol and share groups
    /// start one by bumping the group epoch. The console's timeline draws its bands by this too.
    /// </summary>
    public static bool Started(GroupView? before, GroupView after) =>
        after.Type == GroupType.Classic
            ? Rebalancing(after) && (before is null || !Rebalancing(before))
            : after.Epoch > (before?.Epoch ?? 0);

    private static bool Rebalancing(GroupView classic) => classic.State is "PreparingRebalance" or "CompletingRebalance";

    private async Task ReadAsync()
    {
        var reader = _subscription.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var change))
                    Apply(change);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "The rebalance meter failed; samsa.group.rebalances stops counting");
        }
    }

    private void Apply(GroupChange change)
    {
        if (change.After is not { } after)
        {
            _open.Remove(change.GroupId);
            return;
        }
        var now = _time.GetUtcNow();
        if (Started(change.Before, after))
        {
            // A rebalance that a newer one overtook is not counted apart: the newer one's start wins.
            _open[after.GroupId] = now;
            if (after.State is not ("Stable" or "Empty"))
                return;
        }
        if (after.State is "Stable" or "Empty" && _open.Remove(after.GroupId, out var started) && after.State == "Stable")
            _metrics.Rebalanced(after.GroupId, GroupTypes.Name(after.Type), (now - started).TotalSeconds);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _subscription.Dispose();
        try
        {
            _loop.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
