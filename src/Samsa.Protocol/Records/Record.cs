namespace Samsa.Protocol.Records;

/// <summary>
/// One record, as a view into its batch's (decompressed) bytes: nothing is copied, so it is valid
/// only while those bytes are. Null key or value is distinguished from empty.
/// </summary>
public readonly struct Record
{
    public Record(long offset, long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, ReadOnlyMemory<byte> headers, int headerCount)
    {
        Offset = offset;
        Timestamp = timestamp;
        Key = key;
        Value = value;
        RawHeaders = headers;
        HeaderCount = headerCount;
    }

    public long Offset { get; }

    public long Timestamp { get; }

    public ReadOnlyMemory<byte>? Key { get; }

    public ReadOnlyMemory<byte>? Value { get; }

    /// <summary>The encoded headers (key/value pairs); walk them with <see cref="GetHeaders"/>.</summary>
    public ReadOnlyMemory<byte> RawHeaders { get; }

    public int HeaderCount { get; }

    public RecordHeaderEnumerator GetHeaders() => new(RawHeaders, HeaderCount);
}

/// <summary>A header as a view: UTF-8 key bytes and a nullable value.</summary>
public readonly record struct RecordHeader(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte>? Value);
