using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Samsa.Client.Admin;

namespace Samsa.Extensions.Hosting.HealthChecks;

/// <summary>
/// The admin clients the health checks ask through, one per bootstrap.servers, created on first use and
/// disposed with the container (a check run must not open a connection every time).
/// </summary>
internal sealed class HealthCheckAdminClients : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<KafkaAdminClient>> _clients = new(StringComparer.Ordinal);

    public KafkaAdminClient For(string bootstrapServers) =>
        _clients.GetOrAdd(bootstrapServers, b => new Lazy<KafkaAdminClient>(() => new KafkaAdminClient(new AdminOptions { BootstrapServers = b, ClientId = "samsa-health" }))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated))
            await client.Value.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Healthy when the cluster answers DescribeCluster within the timeout.</summary>
internal sealed class KafkaBrokerHealthCheck(HealthCheckAdminClients clients, Func<string> bootstrapServers, TimeSpan timeout, string what) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string bootstrap = bootstrapServers();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var cluster = await clients.For(bootstrap).DescribeClusterAsync(deadline.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"{what}: cluster {cluster.ClusterId} reachable at {bootstrap}, {cluster.Brokers.Count} broker(s).",
                new Dictionary<string, object> { ["bootstrap.servers"] = bootstrap, ["brokers"] = cluster.Brokers.Count });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{what}: no answer from {bootstrap} within {timeout.TotalMilliseconds} ms.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{what}: {bootstrap}: {e.Message}", e);
        }
    }
}

/// <summary>Degraded when the group's total lag exceeds the threshold; the failure status when the cluster does not answer.</summary>
internal sealed class KafkaConsumerLagHealthCheck(HealthCheckAdminClients clients, Func<(string Bootstrap, string? Group)> target, long maxLag, TimeSpan timeout) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (bootstrap, group) = target();
        if (group is null)
            return HealthCheckResult.Healthy("The consumer has no group.id: no committed offsets to measure lag by.");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var offsets = await clients.For(bootstrap).ListGroupOffsetsAsync(group, deadline.Token).ConfigureAwait(false);
            long lag = offsets.Sum(p => p.Lag);
            var data = new Dictionary<string, object> { ["group.id"] = group, ["lag"] = lag };
            foreach (var p in offsets)
                data[$"{p.Partition.Topic}-{p.Partition.Partition}"] = p.Lag;
            return lag > maxLag
                ? HealthCheckResult.Degraded($"Group {group} is {lag} records behind (more than {maxLag}).", data: data)
                : HealthCheckResult.Healthy($"Group {group} is {lag} records behind.", data);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Group {group}: no answer from {bootstrap} within {timeout.TotalMilliseconds} ms.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Group {group}: {e.Message}", e);
        }
    }
}
