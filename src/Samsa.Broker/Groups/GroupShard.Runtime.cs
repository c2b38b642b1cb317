using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Groups.Runtime;
using Samsa.Protocol;

namespace Samsa.Broker.Groups;

/// <summary>
/// The coordinator runtime of one shard (Kafka's CoordinatorRuntime, single node): every request
/// and every timer is an operation run under the shard's lock. An operation returns the records it
/// wants written and its response; the runtime appends the records to __consumer_offsets, applies
/// them through <see cref="Replay"/> — the path loading uses — then runs the result's follow-up and
/// publishes the views of the groups that changed. A failed append applies nothing.
/// </summary>
internal sealed partial class GroupShard
{
    private readonly Dictionary<string, ITimer> _timers = new(StringComparer.Ordinal);
    private readonly HashSet<Group> _changed = [];
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, GroupView> _views;
    private readonly GroupEvents _events;

    /// <summary>Runs a request: errors thrown as <see cref="CoordinatorException"/> or a failed append become <paramref name="error"/>.</summary>
    private T Run<T>(Func<CoordinatorResult<T>> operation, Func<ErrorCode, string?, T> error)
    {
        lock (_lock)
        {
            try
            {
                if (_closed)
                    return error(ErrorCode.CoordinatorNotAvailable, "The coordinator is shutting down.");
                CoordinatorResult<T> result;
                try
                {
                    result = operation();
                }
                catch (CoordinatorException e)
                {
                    return error(e.Error, e.ErrorMessage);
                }
                try
                {
                    AppendAndReplay(result.Records);
                }
                catch (CoordinatorAppendException)
                {
                    return result.Failed is { } failed ? failed(ErrorCode.CoordinatorNotAvailable) : error(ErrorCode.CoordinatorNotAvailable, null);
                }
                result.Applied?.Invoke();
                return result.Response;
            }
            catch (CoordinatorAppendException)
            {
                // An append deep inside a classic operation failed: what it would have written was not applied.
                return error(ErrorCode.CoordinatorNotAvailable, null);
            }
            finally
            {
                PublishChanges();
            }
        }
    }

    /// <summary>
    /// Appends, then applies each record through <see cref="Replay"/>. Throws
    /// <see cref="CoordinatorAppendException"/> with nothing applied when the log refuses the write.
    /// Caller holds the lock.
    /// </summary>
    private void AppendAndReplay(IReadOnlyList<CoordinatorRecord> records)
    {
        if (records.Count == 0)
            return;
        try
        {
            _log.Append(Partition, records);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Appending {Count} record(s) to __consumer_offsets-{Partition} failed", records.Count, Partition);
            throw new CoordinatorAppendException(e);
        }
        foreach (var record in records)
            ReplayLocked(record.Key, record.Value);
    }

    /// <summary>
    /// A keyed one-shot timer (Kafka's CoordinatorTimer): scheduling a key again replaces the
    /// previous timer, and the operation runs like a request, under the lock, with its records
    /// appended and applied. It never runs after the shard closed or once cancelled, and never lets an
    /// exception reach the timer thread.
    /// </summary>
    private void ScheduleTimer(string key, TimeSpan due, Func<IReadOnlyList<CoordinatorRecord>> operation) =>
        ScheduleTimer(key, due, () => new CoordinatorResult<bool>(true, operation()));

    /// <summary>A keyed timer whose operation also has a follow-up, run once its records are applied.</summary>
    private void ScheduleTimer(string key, TimeSpan due, Func<CoordinatorResult<bool>> operation)
    {
        CancelTimer(key);
        ITimer? timer = null;
        timer = _time.CreateTimer(_ =>
        {
            lock (_lock)
            {
                if (_closed || !_timers.TryGetValue(key, out var current) || !ReferenceEquals(current, timer))
                    return;
                _timers.Remove(key);
                timer!.Dispose();
                try
                {
                    var result = operation();
                    AppendAndReplay(result.Records);
                    result.Applied?.Invoke();
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Group coordinator timer {Key} failed in shard {Partition}", key, Partition);
                }
                finally
                {
                    PublishChanges();
                }
            }
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timers[key] = timer;
        timer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private void CancelTimer(string key)
    {
        if (_timers.Remove(key, out var timer))
            timer.Dispose();
    }

    private bool HasTimer(string key) => _timers.ContainsKey(key);

    /// <summary>Publishes a fresh view of every group changed by the operation that just ran.</summary>
    private void PublishChanges()
    {
        foreach (var group in _changed)
        {
            if (!_groups.TryGetValue(group.GroupId, out var live) || !ReferenceEquals(live, group))
                continue;
            var view = group.View(_topics);
            _views.TryGetValue(group.GroupId, out var before);
            _views[group.GroupId] = view;
            _events.Publish(new GroupChange(before, view));
        }
        _changed.Clear();
        foreach (var id in _removed)
        {
            if (_groups.ContainsKey(id))
                continue;
            if (_views.TryRemove(id, out var before))
                _events.Publish(new GroupChange(before, null));
        }
        _removed.Clear();
    }
}
