using System.Diagnostics;
using Samsa.Client.Consumer;
using Samsa.Client.Share;

namespace Samsa.Cli.Demo;

/// <summary>What became of one delivery to a share worker.</summary>
internal readonly record struct ShareDelivery(string Worker, long Offset, short DeliveryCount, string Outcome, long At);

/// <summary>
/// A member of step 8's share group, polling on its own task in explicit acknowledgement mode:
/// it accepts each record after a little work, rejects the poison one, or, told to stop dead, keeps
/// the first records it gets without acknowledging them and never polls again (as a killed or hung
/// process would: no acknowledgement, no close).
/// </summary>
internal sealed class ShareWorker : IAsyncDisposable
{
    public const string Poison = "poison";

    /// <summary>The "work" per record, so that the members take turns on the partition.</summary>
    private static readonly TimeSpan Work = TimeSpan.FromMilliseconds(25);

    private readonly KafkaShareConsumer<string, string> _consumer;
    private readonly List<ShareDelivery> _deliveries;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<IReadOnlyList<ConsumeResult<string, string>>> _stoppedDead = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private volatile int _assigned;

    public ShareWorker(string name, string bootstrap, string group, string topic, int maxPollRecords, bool stopDead, List<ShareDelivery> deliveries)
    {
        Name = name;
        StopsDead = stopDead;
        _deliveries = deliveries;
        _consumer = new KafkaShareConsumer<string, string>(new ShareConsumerOptions
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            ClientId = name,
            AcknowledgementMode = ShareAcknowledgementMode.Explicit,
            MaxPollRecords = maxPollRecords,
            FetchMaxWait = TimeSpan.FromMilliseconds(100),
        });
        _consumer.Subscribe(topic);
        _loop = Task.Run(RunAsync);
    }

    public string Name { get; }

    public bool StopsDead { get; }

    /// <summary>Partitions the share group assigned this member (as of its last poll).</summary>
    public int Assigned => _assigned;

    /// <summary>Completes with the records this member held when it stopped dead.</summary>
    public Task<IReadOnlyList<ConsumeResult<string, string>>> StoppedDead => _stoppedDead.Task;

    private async Task RunAsync()
    {
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var records = await _consumer.PollAsync(TimeSpan.FromMilliseconds(200), token).ConfigureAwait(false);
                _assigned = _consumer.Assignment.Count;
                if (records.Count == 0)
                    continue;
                if (StopsDead)
                {
                    Add(records.Select(r => new ShareDelivery(Name, r.Offset, r.DeliveryCount ?? 1, "held", Stopwatch.GetTimestamp())));
                    _stoppedDead.TrySetResult(records);
                    return;
                }
                foreach (var record in records)
                {
                    bool poison = record.Value == Poison;
                    _consumer.Acknowledge(record, poison ? AcknowledgeType.Reject : AcknowledgeType.Accept);
                    Add([new ShareDelivery(Name, record.Offset, record.DeliveryCount ?? 1, poison ? "rejected" : "accepted", Stopwatch.GetTimestamp())]);
                    if (!poison)
                        await Task.Delay(Work, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            _stoppedDead.TrySetCanceled(CancellationToken.None);
        }
    }

    private void Add(IEnumerable<ShareDelivery> deliveries)
    {
        lock (_deliveries)
            _deliveries.AddRange(deliveries);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is Samsa.Client.KafkaException or InvalidOperationException)
        {
            // The step reports what it saw; a member failing on the way out changes none of it.
        }
        // Sends the last acknowledgements (the poll loop's final ones ride here), closes the share
        // session and leaves the group.
        await _consumer.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
