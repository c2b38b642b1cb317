using Microsoft.Extensions.Logging;
using Samsa.Client.Consumer;
using Samsa.Client.Internal.Network;
using Samsa.Client.Serialization;
using Samsa.Client.Share;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Share;

internal sealed record ShareFetchSettings(
    string GroupId,
    int MaxWaitMs,
    int MinBytes,
    int MaxBytes,
    int MaxRecords,
    ShareAcquireMode AcquireMode,
    bool CheckCrcs);

/// <summary>
/// A share session with one broker (KIP-932): epoch 0 opens it with every partition, each answer
/// moves it to the next epoch, later requests name only partitions added (and forget those
/// removed), and -1 closes it. A session error or a broken connection starts over at 0.
/// </summary>
internal sealed class ShareSession
{
    public const int CloseEpoch = -1;

    public int Epoch { get; private set; }

    public HashSet<(Guid TopicId, int Partition)> Partitions { get; } = [];

    public bool IsOpen => Epoch > 0;

    public void Next() => Epoch = Epoch == int.MaxValue ? 1 : Epoch + 1;

    public void Reset()
    {
        Epoch = 0;
        Partitions.Clear();
    }
}

/// <summary>The acknowledgements a request carries, kept to report their outcome when it is answered.</summary>
internal sealed record AcknowledgementsInFlight(int Node, IReadOnlyList<PendingAcknowledgements> Partitions)
{
    public static readonly AcknowledgementsInFlight None = new(-1, []);
}

/// <summary>
/// The share consumer's fetch and acknowledgement state, with no I/O and no threads (the Java
/// client's ShareConsumeRequestManager, ShareSessionHandler, ShareFetchBuffer and ShareFetch
/// together): it keeps a share session per broker, builds each ShareFetch (the partitions that
/// broker leads, acknowledgements piggy-backed) and ShareAcknowledge (commit, close), takes their
/// answers, buffers what was acquired, hands out records up to max.poll.records, tracks the
/// records of the last poll until they are acknowledged, and queues the outcome of every
/// acknowledgement for the commit callback. Owned by the consumer's application thread; the I/O
/// around it only sends what it builds and hands back the answers.
/// </summary>
internal sealed class ShareFetchState<TKey, TValue> : IDisposable
{
    private readonly ShareFetchSettings _settings;
    private readonly string _memberId;
    private readonly IDeserializer<TKey> _keys;
    private readonly IDeserializer<TValue> _values;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Dictionary<int, ShareSession> _sessions = [];
    private readonly Dictionary<(string Topic, int Partition), ShareRecords> _buffered = [];
    private readonly Dictionary<(string Topic, int Partition), DeliveredPartition> _delivered = [];
    private readonly Dictionary<(string Topic, int Partition), PendingAcknowledgements> _pending = [];
    private readonly List<AcknowledgementResult> _completed = [];
    private readonly List<(long First, long Last)> _gaps = [];
    private int _rotation;

    public ShareFetchState(ShareFetchSettings settings, string memberId, IDeserializer<TKey> keys, IDeserializer<TValue> values, ILogger log, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _settings = settings;
        _memberId = memberId;
        _keys = keys;
        _values = values;
        _log = log;
    }

    /// <summary>Set when an answer says our metadata is stale (leader moved, unknown partition).</summary>
    public bool MetadataStale { get; set; }

    /// <summary>Records acquired but not handed out yet.</summary>
    public bool HasBuffered => _buffered.Count > 0;

    /// <summary>Acquired offsets dropped unhanded because their acquisition lock had run out (for tests and logs).</summary>
    public long ExpiredDropped { get; private set; }

    public bool IsBuffered(string topic, int partition) => _buffered.ContainsKey((topic, partition));

    /// <summary>Records the last poll returned that are not acknowledged yet.</summary>
    public int Unacknowledged => _delivered.Values.Sum(d => d.Unacknowledged);

    public bool HasPendingAcknowledgements => _pending.Count > 0;

    public IEnumerable<int> NodesWithPendingAcknowledgements => _pending.Values.Select(p => p.Node).Distinct();

    /// <summary>Acknowledgements waiting for <paramref name="node"/> for partitions not in <paramref name="wanted"/> (a fetch would forget them).</summary>
    public bool HasAcknowledgementsOutside(int node, IReadOnlyCollection<SharePartition> wanted) =>
        _pending.Values.Any(p => p.Node == node && Session(node).IsOpen && !wanted.Any(w => w.TopicId == p.TopicId && w.Partition == p.Partition));

    public IEnumerable<int> NodesWithSessions => _sessions.Where(s => s.Value.IsOpen).Select(s => s.Key);

    public ShareSession Session(int node)
    {
        if (!_sessions.TryGetValue(node, out var session))
            _sessions[node] = session = new ShareSession();
        return session;
    }

    /// <summary>Acknowledges one record of the last poll; false when the last poll did not return it.</summary>
    public bool Acknowledge(string topic, int partition, long offset, AcknowledgeType type) =>
        _delivered.TryGetValue((topic, partition), out var delivered) && delivered.Acknowledge(offset, type);

    /// <summary>Implicit mode: everything the last poll returned is accepted.</summary>
    public void AcknowledgeAllDelivered(AcknowledgeType type)
    {
        foreach (var delivered in _delivered.Values)
            delivered.AcknowledgeAll(type);
    }

    /// <summary>Moves the acknowledged records of the last poll to the acknowledgements waiting to be sent.</summary>
    public void TakeAcknowledged()
    {
        foreach (var (key, delivered) in _delivered)
        {
            if (delivered.Count == delivered.Unacknowledged)
                continue;
            delivered.TakeAcknowledged(PendingFor(key.Topic, key.Partition, delivered.TopicId, delivered.Node));
        }
        foreach (var key in _delivered.Where(d => d.Value.Count == 0).Select(d => d.Key).ToList())
            _delivered.Remove(key);
    }

    private PendingAcknowledgements PendingFor(string topic, int partition, Guid topicId, int node)
    {
        if (!_pending.TryGetValue((topic, partition), out var pending) || pending.Node != node)
        {
            if (pending is not null)
                Complete(pending, new KafkaException(ErrorCode.NotLeaderOrFollower, $"{topic}-{partition}: the records were acquired from another broker."));
            _pending[(topic, partition)] = pending = new PendingAcknowledgements(topic, partition, topicId, node);
        }
        return pending;
    }

    /// <summary>
    /// Hands out up to <paramref name="max"/> buffered records, starting at another partition each
    /// time. What it returns becomes the last poll's records; gaps are acknowledged on the way.
    /// Buffered records whose acquisition lock has run out are dropped first, unacknowledged.
    /// </summary>
    public int Collect(List<ConsumeResult<TKey, TValue>> output, int max)
    {
        DropExpired();
        if (_buffered.Count == 0)
            return 0;
        int added = 0;
        var keys = _buffered.Keys.ToList();
        int start = (int)((uint)_rotation++ % (uint)keys.Count);
        for (int i = 0; i < keys.Count && added < max; i++)
        {
            var key = keys[(start + i) % keys.Count];
            var records = _buffered[key];
            int before = output.Count;
            _gaps.Clear();
            try
            {
                added += records.Drain(output, max - added, _keys, _values, _gaps);
            }
            catch (ShareDeserializationException e)
            {
                // Released for another delivery (the group archives it at its delivery limit), as
                // nothing the application did could make it readable here.
                PendingFor(key.Topic, key.Partition, records.TopicId, records.Node).Add(e.Offset, (byte)AcknowledgeType.Release);
                RecordDelivered(key, records, output, before);
                AddGaps(key, records);
                throw;
            }
            RecordDelivered(key, records, output, before);
            AddGaps(key, records);
            if (records.IsDrained)
                _buffered.Remove(key);
        }
        return added;
    }

    /// <summary>
    /// Buffered records whose acquisition lock may have run out are never handed out: the broker
    /// made them available again, so another member may have them (or have accepted them) by now,
    /// and processing them here would be a second delivery the broker never counted. Nothing is
    /// acknowledged for them, as an acknowledgement for records we no longer hold is refused
    /// (INVALID_RECORD_STATE) or, worse, would touch another member's delivery. The Java client
    /// only fetches once its buffer is empty and has no such check; ours buffers the same way, so
    /// this matters when a batch outgrows max.poll.records and the application is slow.
    /// </summary>
    private void DropExpired()
    {
        if (_buffered.Count == 0)
            return;
        long now = _time.GetTimestamp();
        foreach (var (key, records) in _buffered.Where(b => b.Value.LockExpired(now)).ToList())
            DropExpired(key, records);
    }

    private void DropExpired((string Topic, int Partition) key, ShareRecords records)
    {
        long offsets = records.Undelivered().Sum(r => r.Last - r.First + 1);
        ExpiredDropped += offsets;
        _log.LogInformation("{Topic}-{Partition}: dropped {Count} acquired offset(s) not yet polled, from {First}: their acquisition lock ran out, so the broker may have given them to another member",
            key.Topic, key.Partition, offsets, records.Undelivered().Select(r => r.First).DefaultIfEmpty(-1).First());
        records.Dispose();
        _buffered.Remove(key);
    }

    private void RecordDelivered((string Topic, int Partition) key, ShareRecords records, List<ConsumeResult<TKey, TValue>> output, int from)
    {
        if (output.Count == from)
            return;
        if (!_delivered.TryGetValue(key, out var delivered) || delivered.Node != records.Node)
            _delivered[key] = delivered = new DeliveredPartition(key.Topic, key.Partition, records.TopicId, records.Node);
        for (int i = from; i < output.Count; i++)
            delivered.Delivered(output[i].Offset);
    }

    private void AddGaps((string Topic, int Partition) key, ShareRecords records)
    {
        if (_gaps.Count == 0)
            return;
        var pending = PendingFor(key.Topic, key.Partition, records.TopicId, records.Node);
        foreach (var (first, last) in _gaps)
            pending.AddRange(first, last, AckTypes.Gap);
        _gaps.Clear();
    }

    /// <summary>
    /// The next ShareFetch to <paramref name="node"/> for the partitions it leads that we want
    /// (<paramref name="wanted"/>): the whole set when the session opens, else what was added and
    /// forgotten, with this node's waiting acknowledgements piggy-backed. Null when there is
    /// nothing to ask. Acknowledgements cannot open a session: with none open they fail.
    /// </summary>
    public ShareFetchRequest? BuildFetch(int node, IReadOnlyCollection<SharePartition> wanted, out AcknowledgementsInFlight acks)
    {
        acks = AcknowledgementsInFlight.None;
        var session = Session(node);
        var wantedKeys = wanted.Select(p => (p.TopicId, p.Partition)).ToHashSet();
        var request = new ShareFetchRequest
        {
            GroupId = _settings.GroupId,
            MemberId = _memberId,
            ShareSessionEpoch = session.Epoch,
            MaxWaitMs = _settings.MaxWaitMs,
            MinBytes = _settings.MinBytes,
            MaxBytes = _settings.MaxBytes,
            MaxRecords = _settings.MaxRecords,
            BatchSize = _settings.MaxRecords,
            ShareAcquireMode = (sbyte)(_settings.AcquireMode == ShareAcquireMode.RecordLimit ? 1 : 0),
        };
        var topics = new Dictionary<Guid, ShareFetchRequest.FetchTopic>();
        ShareFetchRequest.FetchPartition Add(Guid topicId, int partition)
        {
            if (!topics.TryGetValue(topicId, out var topic))
            {
                topics[topicId] = topic = new ShareFetchRequest.FetchTopic { TopicId = topicId };
                request.Topics.Add(topic);
            }
            var existing = topic.Partitions.Find(p => p.PartitionIndex == partition);
            if (existing is not null)
                return existing;
            var added = new ShareFetchRequest.FetchPartition { PartitionIndex = partition };
            topic.Partitions.Add(added);
            return added;
        }
        if (!session.IsOpen)
        {
            FailPending(node, new KafkaException(ErrorCode.InvalidShareSessionEpoch, "The share session with the broker that acquired the records was closed; they are delivered again."));
            session.Reset();
            foreach (var p in wanted)
            {
                Add(p.TopicId, p.Partition);
                session.Partitions.Add((p.TopicId, p.Partition));
            }
            return wanted.Count == 0 ? null : request;
        }
        foreach (var p in wanted)
        {
            if (session.Partitions.Add((p.TopicId, p.Partition)))
                Add(p.TopicId, p.Partition);
        }
        var forgotten = session.Partitions.Where(p => !wantedKeys.Contains(p)).ToList();
        foreach (var group in forgotten.GroupBy(p => p.TopicId))
        {
            request.ForgottenTopicsData.Add(new ShareFetchRequest.ForgottenTopic { TopicId = group.Key, Partitions = group.Select(p => p.Partition).Order().ToList() });
            foreach (var p in group)
                session.Partitions.Remove(p);
        }
        // Acknowledgements ride along for partitions still in the session; the others go by ShareAcknowledge.
        var sent = new List<PendingAcknowledgements>();
        foreach (var pending in _pending.Values.Where(p => p.Node == node && session.Partitions.Contains((p.TopicId, p.Partition))).ToList())
        {
            Add(pending.TopicId, pending.Partition).AcknowledgementBatches = ToFetchBatches(pending);
            _pending.Remove((pending.Topic, pending.Partition));
            sent.Add(pending);
        }
        acks = sent.Count == 0 ? AcknowledgementsInFlight.None : new AcknowledgementsInFlight(node, sent);
        // An open session with nothing to fetch still lets the broker long-poll for its partitions.
        return session.Partitions.Count == 0 && forgotten.Count == 0 && sent.Count == 0 ? null : request;
    }

    /// <summary>
    /// Takes a ShareFetch answer: moves the session on (or back to 0), reports the piggy-backed
    /// acknowledgements, buffers what was acquired. True when any records were acquired.
    /// </summary>
    /// <param name="node">The broker that answered.</param>
    /// <param name="acks">The acknowledgements the request carried.</param>
    /// <param name="response">The answer.</param>
    /// <param name="frame">
    /// The pooled response frame the records are slices of: each partition with records takes a
    /// reference; the caller still releases its own.
    /// </param>
    /// <param name="nameOf">Topic names by id.</param>
    /// <param name="sentAt">
    /// The <see cref="TimeProvider"/> timestamp the request left at (null: now): the broker acquired
    /// the records no earlier, so their lock runs out no earlier than it plus the response's
    /// AcquisitionLockTimeoutMs.
    /// </param>
    public bool OnFetchResponse(int node, AcknowledgementsInFlight acks, ShareFetchResponse response, ResponseBuffer? frame, Func<Guid, string?> nameOf, long? sentAt = null)
    {
        long? lockExpiresAt = response.AcquisitionLockTimeoutMs > 0
            ? (sentAt ?? _time.GetTimestamp()) + response.AcquisitionLockTimeoutMs * _time.TimestampFrequency / 1000
            : null;
        var session = Session(node);
        if (response.ErrorCode != ErrorCode.None)
        {
            if (response.ErrorCode is ErrorCode.ShareSessionNotFound or ErrorCode.InvalidShareSessionEpoch or ErrorCode.ShareSessionLimitReached)
                session.Reset();
            else
                session.Next();
            _log.LogDebug("ShareFetch to node {Node}: {Error} {Message}", node, response.ErrorCode, response.ErrorMessage);
            var error = KafkaException.FromError(response.ErrorCode, $"ShareFetch to node {node}{(string.IsNullOrEmpty(response.ErrorMessage) ? "" : ": " + response.ErrorMessage)}");
            foreach (var p in acks.Partitions)
                Complete(p, error);
            if (response.ErrorCode is ErrorCode.GroupAuthorizationFailed or ErrorCode.TopicAuthorizationFailed)
                throw error;
            return false;
        }
        session.Next();
        var unanswered = acks.Partitions.ToDictionary(p => (p.TopicId, p.Partition));
        bool acquired = false;
        foreach (var topic in response.Responses)
        {
            foreach (var p in topic.Partitions)
            {
                if (unanswered.Remove((topic.TopicId, p.PartitionIndex), out var sent))
                    Complete(sent, (ErrorCode)p.AcknowledgeErrorCode == ErrorCode.None ? null : AckError((ErrorCode)p.AcknowledgeErrorCode, p.AcknowledgeErrorMessage, sent));
                if (p.ErrorCode != ErrorCode.None)
                {
                    _log.LogDebug("ShareFetch {Topic}-{Partition} from node {Node}: {Error}", topic.TopicId, p.PartitionIndex, node, p.ErrorCode);
                    if (p.ErrorCode is ErrorCode.TopicAuthorizationFailed)
                        throw KafkaException.FromError(p.ErrorCode, $"share-fetching {nameOf(topic.TopicId) ?? topic.TopicId.ToString()}-{p.PartitionIndex}");
                    MetadataStale = true;
                    continue;
                }
                if (p.AcquiredRecords.Count == 0 || nameOf(topic.TopicId) is not { } name)
                    continue;
                var key = (name, p.PartitionIndex);
                var ranges = p.AcquiredRecords.Select(a => new AcquiredRange(a.FirstOffset, a.LastOffset, a.DeliveryCount)).ToList();
                if (_buffered.TryGetValue(key, out var stale) && stale.LockExpired(_time.GetTimestamp()))
                    DropExpired(key, stale);
                if (_buffered.TryGetValue(key, out var older))
                {
                    // Fetches go out only once everything buffered was handed out, so this is rare:
                    // the older records stay. Ranges it still holds are the same records again
                    // (librdkafka's mock answers with everything a member holds); anything else
                    // acquired is released rather than buffered twice.
                    var held = older.Undelivered().ToList();
                    foreach (var r in ranges)
                    {
                        for (long o = r.FirstOffset; o <= r.LastOffset; o++)
                        {
                            if (!held.Exists(h => h.First <= o && o <= h.Last))
                                PendingFor(name, p.PartitionIndex, topic.TopicId, node).Add(o, (byte)AcknowledgeType.Release);
                        }
                    }
                    continue;
                }
                var records = p.Records is { Length: > 0 } bytes ? bytes : ReadOnlyMemory<byte>.Empty;
                var buffered = new ShareRecords(name, p.PartitionIndex, topic.TopicId, node, records, records.IsEmpty ? null : frame?.AddReference(),
                    ranges, _settings.CheckCrcs, lockExpiresAt);
                _buffered[key] = buffered;
                acquired = true;
            }
        }
        foreach (var sent in unanswered.Values)
            Complete(sent, new KafkaException(ErrorCode.InvalidRecordState, $"{sent.Topic}-{sent.Partition}: the broker's answer did not mention the acknowledgements."));
        return acquired;
    }

    /// <summary>The request got no answer: the session starts over (the broker drops it with the connection) and its acknowledgements failed.</summary>
    public void OnRequestFailed(int node, AcknowledgementsInFlight acks, Exception error)
    {
        Session(node).Reset();
        var failure = error as KafkaException ?? new KafkaConnectionException(error.Message, error);
        foreach (var p in acks.Partitions)
            Complete(p, failure);
        MetadataStale = true;
    }

    /// <summary>
    /// A ShareAcknowledge for this node's waiting acknowledgements (commit), or with epoch -1
    /// closing its session (close: the broker releases whatever this member still holds there).
    /// Null when there is nothing to send or no session to send it in.
    /// </summary>
    public ShareAcknowledgeRequest? BuildAcknowledge(int node, bool close, out AcknowledgementsInFlight acks)
    {
        acks = AcknowledgementsInFlight.None;
        var session = Session(node);
        var pending = _pending.Values.Where(p => p.Node == node).ToList();
        if (!session.IsOpen)
        {
            FailPending(node, new KafkaException(ErrorCode.InvalidShareSessionEpoch, "The share session with the broker that acquired the records was closed; they are delivered again."));
            return null;
        }
        if (pending.Count == 0 && !close)
            return null;
        var request = new ShareAcknowledgeRequest
        {
            GroupId = _settings.GroupId,
            MemberId = _memberId,
            ShareSessionEpoch = close ? ShareSession.CloseEpoch : session.Epoch,
        };
        foreach (var group in pending.GroupBy(p => p.TopicId))
        {
            request.Topics.Add(new ShareAcknowledgeRequest.AcknowledgeTopic
            {
                TopicId = group.Key,
                Partitions = group.Select(p => new ShareAcknowledgeRequest.AcknowledgePartition
                {
                    PartitionIndex = p.Partition,
                    AcknowledgementBatches = p.Batches().Select(b => new ShareAcknowledgeRequest.AcknowledgementBatch
                    {
                        FirstOffset = b.First,
                        LastOffset = b.Last,
                        AcknowledgeTypes = [.. b.Types.Select(t => (sbyte)t)],
                    }).ToList(),
                }).ToList(),
            });
        }
        foreach (var p in pending)
            _pending.Remove((p.Topic, p.Partition));
        acks = new AcknowledgementsInFlight(node, pending);
        return request;
    }

    public void OnAcknowledgeResponse(int node, bool close, AcknowledgementsInFlight acks, ShareAcknowledgeResponse response)
    {
        var session = Session(node);
        if (close)
            session.Reset();
        if (response.ErrorCode != ErrorCode.None)
        {
            if (!close)
            {
                if (response.ErrorCode is ErrorCode.ShareSessionNotFound or ErrorCode.InvalidShareSessionEpoch)
                    session.Reset();
                else
                    session.Next();
            }
            var error = KafkaException.FromError(response.ErrorCode, $"ShareAcknowledge to node {node}{(string.IsNullOrEmpty(response.ErrorMessage) ? "" : ": " + response.ErrorMessage)}");
            foreach (var p in acks.Partitions)
                Complete(p, error);
            return;
        }
        if (!close)
            session.Next();
        var unanswered = acks.Partitions.ToDictionary(p => (p.TopicId, p.Partition));
        foreach (var topic in response.Responses)
        {
            foreach (var p in topic.Partitions)
            {
                if (unanswered.Remove((topic.TopicId, p.PartitionIndex), out var sent))
                    Complete(sent, p.ErrorCode == ErrorCode.None ? null : AckError(p.ErrorCode, p.ErrorMessage, sent));
                if (p.ErrorCode is ErrorCode.NotLeaderOrFollower or ErrorCode.UnknownTopicOrPartition)
                    MetadataStale = true;
            }
        }
        foreach (var sent in unanswered.Values)
            Complete(sent, new KafkaException(ErrorCode.InvalidRecordState, $"{sent.Topic}-{sent.Partition}: the broker's answer did not mention the acknowledgements."));
    }

    /// <summary>
    /// Records acquired but not handed out (buffered) are released: on close, or when their
    /// partition left the assignment, so that others get them without waiting for the lock.
    /// </summary>
    public void ReleaseBuffered(Func<(string Topic, int Partition), bool>? which = null)
    {
        DropExpired(); // no longer ours to release
        foreach (var (key, records) in _buffered.Where(b => which?.Invoke(b.Key) ?? true).ToList())
        {
            ReleaseUndelivered(key, records);
            records.Dispose();
            _buffered.Remove(key);
        }
    }

    private void ReleaseUndelivered((string Topic, int Partition) key, ShareRecords records)
    {
        foreach (var (first, last) in records.Undelivered())
            PendingFor(key.Topic, key.Partition, records.TopicId, records.Node).AddRange(first, last, (byte)AcknowledgeType.Release);
    }

    /// <summary>Acknowledgement outcomes since the last call, for the commit callback.</summary>
    public List<AcknowledgementResult> TakeCompleted()
    {
        var taken = new List<AcknowledgementResult>(_completed);
        _completed.Clear();
        return taken;
    }

    private void FailPending(int node, KafkaException error)
    {
        foreach (var pending in _pending.Values.Where(p => p.Node == node).ToList())
        {
            _pending.Remove((pending.Topic, pending.Partition));
            Complete(pending, error);
        }
    }

    private void Complete(PendingAcknowledgements acks, KafkaException? error)
    {
        var offsets = acks.RecordOffsets();
        if (offsets.Length == 0)
            return; // gaps only: nothing the application acknowledged
        if (error is not null)
            _log.LogDebug("Acknowledgements for {Topic}-{Partition} failed: {Message}", acks.Topic, acks.Partition, error.Message);
        _completed.Add(new AcknowledgementResult(new TopicPartition(acks.Topic, acks.Partition), offsets, error));
    }

    private static KafkaException AckError(ErrorCode code, string? message, PendingAcknowledgements acks) => code switch
    {
        ErrorCode.InvalidRecordState => new KafkaException(code,
            $"{acks.Topic}-{acks.Partition}: the broker refused the acknowledgements (INVALID_RECORD_STATE): the records' locks had expired or they were delivered to another member{(string.IsNullOrEmpty(message) ? "" : " (" + message + ")")}."),
        _ => KafkaException.FromError(code, $"acknowledging {acks.Topic}-{acks.Partition}{(string.IsNullOrEmpty(message) ? "" : ": " + message)}"),
    };

    private static List<ShareFetchRequest.AcknowledgementBatch> ToFetchBatches(PendingAcknowledgements pending) =>
        pending.Batches().Select(b => new ShareFetchRequest.AcknowledgementBatch
        {
            FirstOffset = b.First,
            LastOffset = b.Last,
            AcknowledgeTypes = [.. b.Types.Select(t => (sbyte)t)],
        }).ToList();

    public void Dispose()
    {
        foreach (var records in _buffered.Values)
            records.Dispose();
        _buffered.Clear();
    }
}
