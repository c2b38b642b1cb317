using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Samsa.Client.Consumer;
using Samsa.Extensions.Hosting;
using Samsa.Testing;

namespace Samsa.Extensions.Hosting.Tests;

/// <summary>What the handlers saw, shared with the test (a singleton).</summary>
public sealed class Seen
{
    private readonly ConcurrentQueue<string> _values = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _waiters = new();

    public IReadOnlyCollection<string> Values => _values;

    public void Add(string value)
    {
        _values.Enqueue(value);
        foreach (var (count, waiter) in _waiters)
        {
            if (_values.Count >= count)
                waiter.TrySetResult();
        }
    }

    public Task Reached(int count)
    {
        var waiter = _waiters.GetOrAdd(count, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_values.Count >= count)
            waiter.TrySetResult();
        return waiter.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }
}

public sealed class RecordingHandler(Seen seen) : IKafkaRecordHandler<string, string>
{
    public ValueTask HandleAsync(ConsumeResult<string, string> record, CancellationToken cancellationToken)
    {
        if (record.Value.StartsWith("bad", StringComparison.Ordinal))
            throw new InvalidOperationException($"cannot handle {record.Value}");
        seen.Add(record.Value);
        return ValueTask.CompletedTask;
    }
}

public class WorkerTests
{
    private static IHost BuildHost(SamsaTestBroker broker, string group, Action<KafkaConsumerWorkerOptions> worker, Action<IServiceCollection>? more = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = broker.BootstrapServers,
            ["Kafka:group.id"] = group,
            ["Kafka:auto.offset.reset"] = "earliest",
            ["Kafka:Producer:linger.ms"] = "0",
        });
        builder.Services.AddSingleton<Seen>();
        builder.Services.AddKafkaConsumerWorker<string, string, RecordingHandler>(worker);
        more?.Invoke(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task A_worker_consumes_commits_and_on_host_stop_commits_and_leaves_the_group()
    {
        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.CreateTopicAsync("orders", partitions: 2);
        await broker.ProduceAsync("orders", Enumerable.Range(0, 10).Select(i => ((string?)$"k{i}", (string?)$"v{i}")));
        using var host = BuildHost(broker, "billing", o => o.Topics.Add("orders"));
        await host.StartAsync();
        var seen = host.Services.GetRequiredService<Seen>();
        await seen.Reached(10);
        var stable = await broker.WaitForGroupAsync("billing", members: 1);
        Assert.Equal(2, stable.Members[0].Assignment.Count);

        await host.StopAsync();

        // Left, not timed out: the session timeout is 45 s, and the group is empty at once.
        await using var admin = broker.CreateAdminClient();
        var group = await admin.DescribeGroupAsync("billing");
        Assert.Equal("Empty", group.State);
        Assert.Empty(group.Members);
        var committed = await broker.CommittedOffsetsAsync("billing");
        Assert.Equal(2, committed.Count);
        Assert.All(committed, p => Assert.Equal(0, p.Lag));
        Assert.Equal(10, committed.Sum(p => p.Committed));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}").Order(), seen.Values.Order());
    }

    [Fact]
    public async Task A_failing_record_is_retried_then_dead_lettered_with_its_origin_and_the_rest_go_on()
    {
        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.ProduceAsync("in", [("k", "a"), ("k", "bad-1"), ("k", "b")]);
        using var host = BuildHost(broker, "dlq-group", o =>
        {
            o.Topics.Add("in");
            o.ErrorPolicy = new KafkaErrorPolicy { Retries = 2, RetryBackoff = TimeSpan.Zero, Action = KafkaErrorAction.DeadLetter, DeadLetterTopic = "in.dlt" };
        });
        await host.StartAsync();
        await host.Services.GetRequiredService<Seen>().Reached(2);
        var dead = Assert.Single(await broker.ReadAsync("in.dlt", 1));
        Assert.Equal("bad-1", dead.Value);
        Assert.Equal("k", dead.Key);
        string Header(string name) => Encoding.UTF8.GetString(dead.Headers.Single(h => h.Key == name).Value!);
        Assert.Equal("in", Header(KafkaErrorPolicy.Headers.OriginalTopic));
        Assert.Equal("1", Header(KafkaErrorPolicy.Headers.OriginalOffset));
        Assert.Equal("dlq-group", Header(KafkaErrorPolicy.Headers.OriginalGroup));
        Assert.Equal(typeof(InvalidOperationException).FullName, Header(KafkaErrorPolicy.Headers.ExceptionType));
        await host.StopAsync();
        Assert.Equal(3, Assert.Single(await broker.CommittedOffsetsAsync("dlq-group")).Committed);
        Assert.Equal(["a", "b"], host.Services.GetRequiredService<Seen>().Values);
    }

    [Fact]
    public async Task The_stop_policy_commits_what_came_before_and_stops_the_host()
    {
        await using var broker = await SamsaTestBroker.StartAsync();
        await broker.ProduceAsync("jobs", [("k", "a"), ("k", "bad-2"), ("k", "b")]);
        using var host = BuildHost(broker, "stopper", o =>
        {
            o.Topics.Add("jobs");
            o.ErrorPolicy = new KafkaErrorPolicy { Retries = 0, Action = KafkaErrorAction.Stop };
        });
        var stopping = new TaskCompletionSource();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        await host.StartAsync();
        await stopping.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await host.StopAsync();
        Assert.Equal(["a"], host.Services.GetRequiredService<Seen>().Values);
        Assert.Equal(1, Assert.Single(await broker.CommittedOffsetsAsync("stopper")).Committed);
    }
}
