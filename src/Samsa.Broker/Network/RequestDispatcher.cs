using Microsoft.Extensions.Logging;
using Samsa.Broker.Metrics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Primitives;

namespace Samsa.Broker.Network;

/// <summary>
/// Decodes a request frame, runs its handler and encodes the response frame. The advertised
/// version range of each api is the range its handler serves (by default, its schema's).
/// </summary>
internal sealed class RequestDispatcher
{
    private readonly Dictionary<ApiKey, IApiHandler> _handlers;
    private readonly ILogger _logger;

    private readonly BrokerMetrics? _metrics;
    private readonly Security.Authorization.IAuthorizer? _authorizer;

    public RequestDispatcher(IEnumerable<IApiHandler> handlers, ILogger logger, BrokerMetrics? metrics = null, Security.Authorization.IAuthorizer? authorizer = null)
    {
        _authorizer = authorizer;
        _handlers = handlers.ToDictionary(h => h.Key);
        _logger = logger;
        _metrics = metrics;
        Advertised = _handlers.Values.OrderBy(h => h.Key)
            .Select(h => ApiMessages.TryGetVersions(h.Key, out short low, out short high)
                ? new ApiVersionsResponse.ApiVersion { ApiKey = (short)h.Key, MinVersion = Math.Max(low, h.LowestVersion), MaxVersion = high }
                : throw new InvalidOperationException($"No schema for {h.Key}."))
            .ToList();
    }

    /// <summary>What ApiVersions answers.</summary>
    public IReadOnlyList<ApiVersionsResponse.ApiVersion> Advertised { get; }

    private bool Serves(ApiKey key, short version) =>
        _handlers.TryGetValue(key, out var handler) && ApiMessages.TryGetVersions(key, out short low, out short high)
        && version >= Math.Max(low, handler.LowestVersion) && version <= high;

    /// <summary>
    /// Handles one request body (the frame without its size). Returns the response frame to send,
    /// or null for none. Throws <see cref="ProtocolException"/> when the connection must close.
    /// </summary>
    public async ValueTask<OutgoingFrame?> DispatchAsync(ReadOnlyMemory<byte> body, System.Net.EndPoint? client, long connectionId, ConnectionSession session, CancellationToken cancellationToken)
    {
        var (key, version, correlationId) = KafkaFrame.PeekRequest(body.Span);
        // On a SASL listener: nothing but the SASL exchange before authentication, and nothing after the session expired.
        session.Sasl?.Admit(key);
        if (!Serves(key, version))
        {
            if (key == ApiKey.ApiVersions)
                return new OutgoingFrame(UnsupportedApiVersions(correlationId), null);
            // Kafka closes the connection on an api or version it does not serve.
            throw new ProtocolException($"Unsupported request: api key {(short)key} version {version}.");
        }

        var request = KafkaFrame.ReadRequest(body, out var header, out int ignored);
        if (ignored > 0 && _logger.IsEnabled(LogLevel.Debug))
            _logger.LogDebug("{Api} v{Version} from {Client}: ignored {Bytes} trailing byte(s), as Kafka does", key, version, header.ClientId, ignored);
        var context = new RequestContext(key, version, correlationId, header.ClientId, client, connectionId, session) { Authorizer = _authorizer };
        // Record sets of a fetch stay in the buffers they were read into: the frame references them
        // and the context that owns those buffers is disposed after the frame is sent.
        var output = new PooledBufferWriter(512) { ReferenceThreshold = ReferenceThreshold };
        try
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            var response = await _handlers[key].HandleAsync(context, request, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                output.Dispose();
                context.DisposeResources();
                return null;
            }
            _metrics?.Request(key, response, started);
            KafkaFrame.WriteResponse(output, response, version, correlationId);
        }
        catch
        {
            output.Dispose();
            context.DisposeResources();
            throw;
        }
        if (_logger.IsEnabled(LogLevel.Trace))
            _logger.LogTrace("{Api} v{Version} from {Client}: {Bytes} byte response", key, version, header.ClientId, output.WrittenCount + output.ReferencedBytes);
        return new OutgoingFrame(output, context);
    }

    /// <summary>Smaller record sets are copied into the frame: a separate piece of a gather write costs more than copying a few KiB.</summary>
    private const int ReferenceThreshold = 4096;

    /// <summary>KIP-511: a client that asks with a version we do not know gets a v0 body with the
    /// error and our ranges, so it can retry with one we serve.</summary>
    private PooledBufferWriter UnsupportedApiVersions(int correlationId)
    {
        var output = new PooledBufferWriter(512);
        var response = new ApiVersionsResponse { ErrorCode = ErrorCode.UnsupportedVersion, ApiKeys = [.. Advertised] };
        KafkaFrame.WriteResponse(output, response, 0, correlationId);
        return output;
    }
}

/// <summary>A response frame to send, and the request context whose buffers it may reference; both are released after the send.</summary>
internal readonly struct OutgoingFrame(PooledBufferWriter output, RequestContext? context) : IDisposable
{
    public PooledBufferWriter Output => output;

    public void Dispose()
    {
        output.Dispose();
        context?.DisposeResources();
    }
}
