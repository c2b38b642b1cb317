using System.Net;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;

namespace Samsa.Interop.Tests.WebConsole;

/// <summary>
/// Topic rates on the console: records produced per second (log ends) and consumed per second
/// (offsets groups committed), from the console's samples. The broker runs on fake time, so the
/// samples land exactly when the test advances the clock.
/// </summary>
[Collection(nameof(ConsoleGroupPageTests))]
public sealed partial class ConsoleRatesTests
{
    [GeneratedRegex("<table class=\"grid facts\" id=\"rates\">.*?<tbody><tr><td>([^<]*)</td><td>([^<]*)</td>", RegexOptions.Singleline)]
    private static partial Regex RatesRow();

    [Fact]
    public async Task The_topic_page_shows_records_produced_and_committed_per_second()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var broker = await ConsoleGroupPageTests.StartBrokerAsync(o => o with { TimeProvider = time });
        using var http = new HttpClient { BaseAddress = new Uri(broker.Broker.UiAddress!.ToString()) };
        await ConsoleGroupPageTests.CreateTopicWithRecordsAsync(broker.Bootstrap, "rated", 2, 10);

        async Task<(string Produced, string Consumed)> Rates()
        {
            var m = RatesRow().Match(await http.GetStringAsync("/topics/rated"));
            Assert.True(m.Success, "the topic page has its rates table");
            return (WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value));
        }

        // FakeTimeProvider runs due timer callbacks inside Advance: each Advance below takes one sample.
        Assert.Equal(("—", "—"), await Rates());
        time.Advance(TimeSpan.FromSeconds(5)); // the topic's first sample: 10 records, nothing committed
        Assert.Equal(("—", "—"), await Rates()); // a rate needs two

        // 40 more records, and a group commits 30: over the next 5 s that is 8 produced and 6 committed per second.
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.Bootstrap }).Build())
        {
            for (int i = 0; i < 40; i++)
                producer.Produce(new TopicPartition("rated", i % 2), new Message<Null, string> { Value = $"r{i}" });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        using (var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = broker.Bootstrap, GroupId = "raters" }).Build())
            consumer.Commit([new TopicPartitionOffset("rated", 0, 15), new TopicPartitionOffset("rated", 1, 15)]);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(("8.0", "6.0"), await Rates());
        Assert.Contains("<th>in/s</th>", await http.GetStringAsync("/"), StringComparison.Ordinal);
    }
}
