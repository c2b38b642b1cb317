using Samsa.Client.Errors;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Client.Internal.Network;

internal sealed partial class BrokerConnection
{
    // Send our highest ApiVersions; a broker that does not know it answers v0 with UNSUPPORTED_VERSION
    // and its own ranges (KIP-511), so retry once at the highest version both sides know.
    private async ValueTask NegotiateVersionsAsync(CancellationToken ct)
    {
        short version = ApiVersionsRequest.HighestVersion;
        var response = await SendAsync<ApiVersionsRequest, ApiVersionsResponse>(NewApiVersionsRequest(), version, ct).ConfigureAwait(false);
        if (response.ErrorCode == ErrorCode.UnsupportedVersion)
        {
            var theirs = response.ApiKeys.Find(k => k.ApiKey == (short)ApiKey.ApiVersions);
            version = theirs is null ? (short)0 : Math.Min(version, theirs.MaxVersion);
            response = await SendAsync<ApiVersionsRequest, ApiVersionsResponse>(NewApiVersionsRequest(), version, ct).ConfigureAwait(false);
        }
        if (response.ErrorCode != ErrorCode.None)
            throw KafkaException.FromError(response.ErrorCode, $"ApiVersions from {Endpoint}");

        foreach (var range in response.ApiKeys)
        {
            var key = (ApiKey)range.ApiKey;
            if (!ApiMessages.TryGetVersions(key, out short ourLowest, out short ourHighest))
                continue;
            short chosen = Math.Min(ourHighest, range.MaxVersion);
            if (chosen >= Math.Max(ourLowest, range.MinVersion))
                _versions[key] = chosen;
        }
    }

    private static ApiVersionsRequest NewApiVersionsRequest() => new()
    {
        ClientSoftwareName = "samsa-dotnet",
        ClientSoftwareVersion = "0.1.0",
    };
}
