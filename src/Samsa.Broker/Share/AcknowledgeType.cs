namespace Samsa.Broker.Share;

/// <summary>The acknowledgement types of ShareFetch and ShareAcknowledge, numbered as on the wire.</summary>
internal enum AcknowledgeType : sbyte
{
    /// <summary>There is no record at the offset (a compacted-away record or a transaction marker): archived.</summary>
    Gap = 0,

    /// <summary>Processed: acknowledged.</summary>
    Accept = 1,

    /// <summary>Not processed, deliver again: available, or archived if out of deliveries.</summary>
    Release = 2,

    /// <summary>Cannot be processed: archived.</summary>
    Reject = 3,

    /// <summary>Still being processed (v2, KIP-1222): the lock starts over, the member keeps the offset.</summary>
    Renew = 4,
}

/// <summary>
/// One acknowledgement batch of a request: offsets <see cref="FirstOffset"/> to
/// <see cref="LastOffset"/> inclusive, with one type for all of them or one per offset. The types
/// are the wire's bytes, so that an unknown one can be refused as Kafka does (INVALID_REQUEST).
/// </summary>
internal readonly record struct ShareAcknowledgement(long FirstOffset, long LastOffset, IReadOnlyList<sbyte> Types)
{
    public ShareAcknowledgement(long firstOffset, long lastOffset, AcknowledgeType type)
        : this(firstOffset, lastOffset, [(sbyte)type])
    {
    }
}
