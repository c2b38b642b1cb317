using Samsa.Protocol;

namespace Samsa.Broker.Share;

internal sealed partial class SharePartition
{
    /// <summary>
    /// Applies one request's acknowledgement batches for this partition, all or none (Kafka rolls
    /// back the whole partition's batches on any error). Errors, as Kafka answers them:
    /// <list type="bullet">
    /// <item>INVALID_REQUEST: a batch with its last offset before its first, batches out of order
    /// or overlapping, a type count that is neither 1 nor the batch's length, an unknown type, or
    /// offsets past the SPEO.</item>
    /// <item>INVALID_RECORD_STATE: an offset at or above the SPSO that this member does not hold
    /// (available, acknowledged, archived, another member's, or its lock ran out), or nothing in
    /// flight at all.</item>
    /// </list>
    /// Offsets below the SPSO are already done and are skipped, as Kafka skips them.
    /// </summary>
    public ErrorCode Acknowledge(string memberId, IReadOnlyList<ShareAcknowledgement> batches)
    {
        ArgumentException.ThrowIfNullOrEmpty(memberId);
        ArgumentNullException.ThrowIfNull(batches);
        ExpireLocks();
        var error = CheckShape(batches);
        if (error == ErrorCode.None)
            error = CheckHeld(memberId, batches);
        if (error != ErrorCode.None)
            return error;

        long renewed = Now + _lockTicks;
        foreach (var batch in batches)
        {
            if (batch.LastOffset < _startOffset)
                continue;
            long first = Math.Max(batch.FirstOffset, _startOffset);
            if (batch.Types.Count == 1)
            {
                Apply(first, batch.LastOffset, (AcknowledgeType)batch.Types[0], renewed);
                continue;
            }
            // One type per offset: apply each stretch of equal types as one range.
            for (long at = first; at <= batch.LastOffset;)
            {
                var type = batch.Types[(int)(at - batch.FirstOffset)];
                long end = at;
                while (end < batch.LastOffset && batch.Types[(int)(end + 1 - batch.FirstOffset)] == (sbyte)type)
                    end++;
                Apply(at, end, (AcknowledgeType)type, renewed);
                at = end + 1;
            }
        }
        Settle();
        return ErrorCode.None;
    }

    private static ErrorCode CheckShape(IReadOnlyList<ShareAcknowledgement> batches)
    {
        long previousLast = long.MinValue;
        foreach (var batch in batches)
        {
            if (batch.FirstOffset > batch.LastOffset || batch.FirstOffset <= previousLast || batch.Types is null)
                return ErrorCode.InvalidRequest;
            previousLast = batch.LastOffset;
            if (batch.Types.Count != 1 && batch.Types.Count != batch.LastOffset - batch.FirstOffset + 1)
                return ErrorCode.InvalidRequest;
            foreach (sbyte type in batch.Types)
            {
                if (type is < (sbyte)AcknowledgeType.Gap or > (sbyte)AcknowledgeType.Renew)
                    return ErrorCode.InvalidRequest;
            }
        }
        return ErrorCode.None;
    }

    private ErrorCode CheckHeld(string memberId, IReadOnlyList<ShareAcknowledgement> batches)
    {
        long speo = SpeoNow;
        foreach (var batch in batches)
        {
            if (batch.LastOffset < _startOffset)
                continue;
            if (_runs.IsEmpty)
                return ErrorCode.InvalidRecordState;
            if (batch.LastOffset > speo)
                return ErrorCode.InvalidRequest;
            for (long at = Math.Max(batch.FirstOffset, _startOffset); at <= batch.LastOffset;)
            {
                var run = _runs[_runs.IndexOf(at)];
                if (run.State != RecordState.Acquired || !string.Equals(run.MemberId, memberId, StringComparison.Ordinal))
                    return ErrorCode.InvalidRecordState;
                at = run.Last + 1;
            }
        }
        return ErrorCode.None;
    }

    /// <summary>Applies one type to offsets first to last, all acquired by the acknowledging member.</summary>
    private void Apply(long first, long last, AcknowledgeType type, long renewedDeadline)
    {
        var (start, end) = _runs.Isolate(first, last);
        var runs = _runs.AsSpan();
        for (int i = start; i < end; i++)
        {
            ref var run = ref runs[i];
            switch (type)
            {
                case AcknowledgeType.Accept:
                    MoveTo(ref run, RecordState.Acknowledged);
                    break;
                case AcknowledgeType.Release:
                    MoveTo(ref run, run.DeliveryCount >= Options.DeliveryCountLimit ? RecordState.Archived : RecordState.Available);
                    break;
                case AcknowledgeType.Reject or AcknowledgeType.Gap:
                    MoveTo(ref run, RecordState.Archived);
                    break;
                case AcknowledgeType.Renew:
                    run.LockDeadline = renewedDeadline;
                    break;
            }
        }
    }
}
