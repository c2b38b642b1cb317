namespace Samsa.Client.Share;

/// <summary>What a share consumer says about a delivered record (the wire values of ShareFetch/ShareAcknowledge).</summary>
public enum AcknowledgeType : byte
{
    /// <summary>Processed: the record is done for this share group.</summary>
    Accept = 1,

    /// <summary>Not processed: deliver it again (to any member), until the group's delivery count limit.</summary>
    Release = 2,

    /// <summary>Unprocessable: never deliver it again.</summary>
    Reject = 3,
}

/// <summary>
/// Called with the outcome of acknowledgements sent to the broker (Java's
/// AcknowledgementCommitCallback): the offsets of one partition's acknowledgements and null, or
/// the error that refused them (e.g. INVALID_RECORD_STATE when the record's lock had expired).
/// Runs on the application's thread inside Poll, CommitSync, CommitAsync or Close, never on an
/// I/O loop; the consumer may not be called from inside it.
/// </summary>
public delegate void AcknowledgementCommitCallback(IReadOnlyDictionary<TopicPartition, IReadOnlyCollection<long>> offsets, KafkaException? error);
