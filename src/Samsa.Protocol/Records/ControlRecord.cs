using System.Buffers.Binary;

namespace Samsa.Protocol.Records;

/// <summary>The type of a transaction marker in a control batch.</summary>
public enum ControlRecordType : short
{
    Abort = 0,
    Commit = 1,
}

/// <summary>
/// The key and value of a control record (the only record of a control batch): key = int16 version
/// (0) + int16 type; value (end-transaction marker) = int16 version (0) + int32 coordinator epoch.
/// </summary>
public static class ControlRecord
{
    public const int KeySize = 4;
    public const int ValueSize = 6;

    public static byte[] Key(ControlRecordType type)
    {
        var key = new byte[KeySize];
        BinaryPrimitives.WriteInt16BigEndian(key.AsSpan(2), (short)type);
        return key;
    }

    public static byte[] EndTransactionValue(int coordinatorEpoch)
    {
        var value = new byte[ValueSize];
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(2), coordinatorEpoch);
        return value;
    }

    public static ControlRecordType ReadType(ReadOnlySpan<byte> key)
    {
        if (key.Length < KeySize)
            throw new ProtocolException($"Control record key of {key.Length} bytes is shorter than {KeySize}.");
        short version = BinaryPrimitives.ReadInt16BigEndian(key);
        if (version != 0)
            throw new ProtocolException($"Control record key version {version} is not supported.");
        return (ControlRecordType)BinaryPrimitives.ReadInt16BigEndian(key[2..]);
    }

    public static int ReadCoordinatorEpoch(ReadOnlySpan<byte> value)
    {
        if (value.Length < ValueSize)
            throw new ProtocolException($"End-transaction marker of {value.Length} bytes is shorter than {ValueSize}.");
        return BinaryPrimitives.ReadInt32BigEndian(value[2..]);
    }
}
