using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Records;

/// <summary>Walks the records of one batch without allocating.</summary>
public struct RecordEnumerator
{
    private readonly ReadOnlyMemory<byte> _records;
    private readonly long _baseOffset;
    private readonly long _baseTimestamp;
    private readonly long _logAppendTime;
    private readonly int _count;
    private int _index;
    private int _position;

    internal RecordEnumerator(ReadOnlyMemory<byte> records, RecordBatchHeader header)
    {
        _records = records;
        _baseOffset = header.BaseOffset;
        _baseTimestamp = header.BaseTimestamp;
        _logAppendTime = header.TimestampType == TimestampType.LogAppendTime ? header.MaxTimestamp : -1;
        _count = header.RecordCount;
        _index = 0;
        _position = 0;
        Current = default;
    }

    public Record Current { get; private set; }

    public readonly RecordEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_index >= _count)
        {
            if (_position != _records.Length)
                throw new ProtocolException($"Record batch has {_records.Length - _position} byte(s) after its {_count} record(s).");
            return false;
        }
        var span = _records.Span;
        int length = ReadVarint(span);
        if (length < 0 || length > span.Length - _position)
            throw new ProtocolException($"Record length {length} exceeds the {span.Length - _position} byte(s) left in the batch.");
        int end = _position + length;
        _position++; // attributes, unused in magic 2
        long timestampDelta = ReadVarlong(span);
        int offsetDelta = ReadVarint(span);
        var key = ReadBytes(span, end);
        var value = ReadBytes(span, end);
        int headerCount = ReadVarint(span);
        if (headerCount < 0)
            throw new ProtocolException($"Negative header count {headerCount}.");
        int headersStart = _position;
        for (int i = 0; i < headerCount; i++)
        {
            int keyLength = ReadVarint(span);
            if (keyLength < 0 || keyLength > end - _position)
                throw new ProtocolException($"Header key length {keyLength} is out of bounds.");
            _position += keyLength;
            ReadBytes(span, end);
        }
        if (_position != end)
            throw new ProtocolException($"Record declared {length} bytes but its fields take {_position - (end - length)}.");
        Current = new Record(
            _baseOffset + offsetDelta,
            _logAppendTime >= 0 ? _logAppendTime : _baseTimestamp + timestampDelta,
            key,
            value,
            _records[headersStart..end],
            headerCount);
        _index++;
        return true;
    }

    private int ReadVarint(ReadOnlySpan<byte> span)
    {
        int n = Varint.TryRead(span[_position..], out int value);
        if (n <= 0)
            throw new ProtocolException($"Malformed or truncated varint in a record at {_position}.");
        _position += n;
        return value;
    }

    private long ReadVarlong(ReadOnlySpan<byte> span)
    {
        int n = Varint.TryRead(span[_position..], out long value);
        if (n <= 0)
            throw new ProtocolException($"Malformed or truncated varlong in a record at {_position}.");
        _position += n;
        return value;
    }

    private ReadOnlyMemory<byte>? ReadBytes(ReadOnlySpan<byte> span, int end)
    {
        int length = ReadVarint(span);
        if (length == -1)
            return null;
        if (length < -1 || length > end - _position)
            throw new ProtocolException($"Record field length {length} exceeds the record.");
        var slice = _records.Slice(_position, length);
        _position += length;
        return slice;
    }
}

/// <summary>Walks a record's headers without allocating.</summary>
public struct RecordHeaderEnumerator
{
    private readonly ReadOnlyMemory<byte> _raw;
    private readonly int _count;
    private int _index;
    private int _position;

    internal RecordHeaderEnumerator(ReadOnlyMemory<byte> raw, int count)
    {
        _raw = raw;
        _count = count;
        _index = 0;
        _position = 0;
        Current = default;
    }

    public RecordHeader Current { get; private set; }

    public readonly RecordHeaderEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_index >= _count)
            return false;
        var span = _raw.Span;
        _position += Varint.TryRead(span[_position..], out int keyLength);
        var key = _raw.Slice(_position, keyLength);
        _position += keyLength;
        _position += Varint.TryRead(span[_position..], out int valueLength);
        ReadOnlyMemory<byte>? value = null;
        if (valueLength >= 0)
        {
            value = _raw.Slice(_position, valueLength);
            _position += valueLength;
        }
        Current = new RecordHeader(key, value);
        _index++;
        return true;
    }
}
