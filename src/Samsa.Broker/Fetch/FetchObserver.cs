using System.Net;

namespace Samsa.Broker.Fetch;

/// <summary>Told which partitions a Fetch asked for, by whom; the console uses it to see a new owner's first fetch.</summary>
internal interface IFetchListener
{
    /// <summary>Read on every Fetch before anything else: false keeps the fetch path free of any further work.</summary>
    bool Wants { get; }

    void Fetched(string clientId, EndPoint? client, IReadOnlyList<FetchPartitionRequest> partitions);
}

/// <summary>The seam between the Fetch handler and whoever listens (nobody unless the console runs).</summary>
internal sealed class FetchObserver
{
    private volatile IFetchListener? _listener;

    public IFetchListener? Listener
    {
        get => _listener;
        set => _listener = value;
    }

    public void Fetched(string? clientId, EndPoint? client, IReadOnlyList<FetchPartitionRequest> partitions)
    {
        if (_listener is { Wants: true } listener)
            listener.Fetched(clientId ?? "", client, partitions);
    }
}
