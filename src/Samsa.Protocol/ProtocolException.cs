namespace Samsa.Protocol;

/// <summary>
/// Bytes that do not decode: a truncated buffer, a negative or oversized length, an unknown
/// version, a bad CRC. Decoders throw only this, so a connection can close on it and a fuzz test
/// can assert nothing else escapes.
/// </summary>
public class ProtocolException : Exception
{
    public ProtocolException()
    {
    }

    public ProtocolException(string message)
        : base(message)
    {
    }

    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
