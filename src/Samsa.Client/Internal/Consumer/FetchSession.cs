using Samsa.Protocol;

namespace Samsa.Client.Internal.Consumer;

/// <summary>What to put in the next Fetch to one broker: the session fields and which partitions to list.</summary>
internal sealed record FetchSessionPlan(
    int SessionId,
    int SessionEpoch,
    IReadOnlyList<((string Topic, int Partition) Partition, long Offset, int LeaderEpoch)> Send,
    IReadOnlyList<(string Topic, int Partition)> Forget);

/// <summary>
/// The client's side of a KIP-227 incremental fetch session with one broker. The first request
/// lists every partition (epoch 0) and the broker answers with a session id; after that each
/// request lists only partitions that are new or whose fetch offset changed, and names the ones
/// to drop, and the broker answers only for partitions with something to say. The partitions of
/// the session are exactly those of the last request (a partition with buffered records is left
/// out and re-added later), as in Kafka's FetchSessionHandler. No I/O: the fetcher builds a plan
/// before a request and reports the outcome after it, one request at a time per broker.
/// </summary>
internal sealed class FetchSession
{
    private Dictionary<(string Topic, int Partition), (long Offset, int LeaderEpoch)> _partitions = [];

    /// <summary>0 while there is no session (the next request is a full one that asks for one).</summary>
    public int Id { get; private set; }

    /// <summary>0: the next request is full. From 1: incremental, counting up.</summary>
    public int Epoch { get; private set; }

    public FetchSessionPlan Plan(IReadOnlyDictionary<(string Topic, int Partition), (long Offset, int LeaderEpoch)> next)
    {
        var previous = _partitions;
        _partitions = new Dictionary<(string, int), (long, int)>(next);
        if (Epoch == 0)
            return new FetchSessionPlan(Id, 0, next.Select(kv => (kv.Key, kv.Value.Offset, kv.Value.LeaderEpoch)).ToList(), []);
        var send = next.Where(kv => !previous.TryGetValue(kv.Key, out var was) || was != kv.Value)
            .Select(kv => (kv.Key, kv.Value.Offset, kv.Value.LeaderEpoch))
            .ToList();
        var forget = previous.Keys.Where(k => !next.ContainsKey(k)).ToList();
        return new FetchSessionPlan(Id, Epoch, send, forget);
    }

    /// <summary>A full fetch with no session, for brokers older than Fetch v7.</summary>
    public static FetchSessionPlan Sessionless(IReadOnlyDictionary<(string Topic, int Partition), (long Offset, int LeaderEpoch)> next) =>
        new(0, -1, next.Select(kv => (kv.Key, kv.Value.Offset, kv.Value.LeaderEpoch)).ToList(), []);

    /// <summary>After a response: adopt the session the broker created, or move to the next epoch; start over after a session error.</summary>
    public void OnResponse(ErrorCode error, int sessionId)
    {
        if (error is ErrorCode.FetchSessionIdNotFound or ErrorCode.InvalidFetchSessionEpoch)
        {
            Reset(keepId: false);
            return;
        }
        if (error != ErrorCode.None)
        {
            Reset(keepId: true);
            return;
        }
        if (Epoch == 0)
        {
            Id = sessionId;
            Epoch = sessionId == 0 ? 0 : 1; // a broker that declined a session gets full requests
        }
        else
        {
            Epoch = Epoch == int.MaxValue ? 1 : Epoch + 1;
        }
    }

    /// <summary>The request failed (or a session error): the next request is full. Keeping the id
    /// asks the broker to close that session and open a new one (KIP-227).</summary>
    public void Reset(bool keepId)
    {
        if (!keepId)
            Id = 0;
        Epoch = 0;
        _partitions = [];
    }
}
