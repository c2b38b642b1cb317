using System.Buffers.Binary;
using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Messages;

/// <summary>
/// Framing of whole requests and responses: a 4-byte big-endian size, the header in the version
/// the api and its version call for, then the body. Broker and client both use these so the header
/// rules (flexible versions use header v2/v1, ApiVersions responses always v0) live in one place.
/// </summary>
public static class KafkaFrame
{
    public const int SizePrefixLength = 4;

    /// <summary>Appends one request frame, size prefix included.</summary>
    public static void WriteRequest(PooledBufferWriter output, IRequest request, short version, int correlationId, string? clientId)
    {
        int start = BeginFrame(output);
        var writer = new ProtocolWriter(output);
        var header = new RequestHeader
        {
            RequestApiKey = (short)request.ApiKey,
            RequestApiVersion = version,
            CorrelationId = correlationId,
            ClientId = clientId,
        };
        header.Write(ref writer, ApiMessages.RequestHeaderVersion(request.ApiKey, version));
        request.Write(ref writer, version);
        EndFrame(output, start);
    }

    /// <summary>Appends one response frame, size prefix included.</summary>
    public static void WriteResponse(PooledBufferWriter output, IResponse response, short version, int correlationId)
    {
        int start = BeginFrame(output);
        var writer = new ProtocolWriter(output);
        new ResponseHeader { CorrelationId = correlationId }.Write(ref writer, ApiMessages.ResponseHeaderVersion(response.ApiKey, version));
        response.Write(ref writer, version);
        EndFrame(output, start);
    }

    private static int BeginFrame(PooledBufferWriter output)
    {
        int start = output.WrittenCount;
        output.GetSpan(SizePrefixLength);
        output.Advance(SizePrefixLength);
        return start;
    }

    private static void EndFrame(PooledBufferWriter output, int start)
    {
        // Bytes held by reference belong to this frame: a writer holds one frame when it references any.
        int size = output.WrittenCount + output.ReferencedBytes - start - SizePrefixLength;
        BinaryPrimitives.WriteInt32BigEndian(output.WrittenSpanForUpdate.Slice(start, SizePrefixLength), size);
    }

    /// <summary>
    /// Reads the api key and version at the front of a request body (the frame without its size
    /// prefix) without decoding anything else: enough to pick a handler or refuse the version.
    /// </summary>
    public static (ApiKey Key, short Version, int CorrelationId) PeekRequest(ReadOnlySpan<byte> body)
    {
        if (body.Length < 8)
            throw new ProtocolException($"Request of {body.Length} byte(s) is too short for a header.");
        return ((ApiKey)BinaryPrimitives.ReadInt16BigEndian(body),
            BinaryPrimitives.ReadInt16BigEndian(body[2..]),
            BinaryPrimitives.ReadInt32BigEndian(body[4..]));
    }

    /// <summary>
    /// Reads a request header. For an api or version this build has no schema for, the header is
    /// read as v1 (client id but no tagged fields): that prefix is the same in every header version.
    /// </summary>
    public static RequestHeader ReadRequestHeader(ref ProtocolReader reader, out bool versionSupported)
    {
        var (key, version, _) = PeekRequest(reader.PeekRemaining());
        versionSupported = ApiMessages.TryGetVersions(key, out short low, out short high) && version >= low && version <= high;
        short headerVersion = versionSupported ? ApiMessages.RequestHeaderVersion(key, version) : (short)1;
        return RequestHeader.Read(ref reader, headerVersion);
    }

    /// <summary>
    /// Decodes a whole request body (header and message). Bytes after the message are ignored, as
    /// Kafka's broker ignores them: librdkafka 2.16 sends Metadata v13 with three more bytes than the
    /// schema has, and Kafka serves it.
    /// </summary>
    public static IRequest ReadRequest(ReadOnlyMemory<byte> body, out RequestHeader header) => ReadRequest(body, out header, out _);

    /// <summary>As <see cref="ReadRequest(ReadOnlyMemory{byte}, out RequestHeader)"/>, reporting how many trailing bytes were ignored.</summary>
    public static IRequest ReadRequest(ReadOnlyMemory<byte> body, out RequestHeader header, out int ignoredBytes)
    {
        var reader = new ProtocolReader(body);
        header = ReadRequestHeader(ref reader, out bool supported);
        if (!supported)
            throw new ProtocolException($"Unsupported version {header.RequestApiVersion} of api key {header.RequestApiKey}.");
        var request = ApiMessages.ReadRequest((ApiKey)header.RequestApiKey, header.RequestApiVersion, ref reader);
        ignoredBytes = reader.Remaining;
        return request;
    }

    /// <summary>Decodes a response body (the frame without its size prefix) for a request we sent.</summary>
    public static T ReadResponse<T>(ReadOnlyMemory<byte> body, short version, out int correlationId)
        where T : IResponse, IApiMessage<T>
    {
        var reader = new ProtocolReader(body);
        var header = ResponseHeader.Read(ref reader, ApiMessages.ResponseHeaderVersion(T.Api, version));
        correlationId = header.CorrelationId;
        return T.Read(ref reader, version);
    }
}
