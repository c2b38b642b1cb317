using System.Net;
using System.Text;
using Samsa.Broker.Configuration;
using Samsa.Broker.WebConsole.Pages;

namespace Samsa.Broker.Tests.WebConsole;

public class ConsoleRenderingTests
{
    [Fact]
    public void Interpolated_holes_are_encoded_unless_marked_as_markup()
    {
        string name = "<script>alert('x')</script>";
        var h = new Html().Add($"<td title=\"{name}\">{name}{Html.Raw("<b>ok</b>")}{42}</td>");
        Assert.Equal("<td title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;<b>ok</b>42</td>", h.ToString());
    }

    [Fact]
    public void Values_show_as_pretty_json_text_or_hex()
    {
        static string Show(string? text, ValueFormat format = ValueFormat.Auto) =>
            RecordFormat.Format(text is null ? (ReadOnlyMemory<byte>?)null : Encoding.UTF8.GetBytes(text), format).Value;

        Assert.Contains("class=\"null\">null", Show(null), StringComparison.Ordinal);
        Assert.Contains("class=\"null\">empty", Show(""), StringComparison.Ordinal);
        Assert.Equal("<pre class=\"json\">{\n  &quot;item&quot;: &quot;책&quot;,\n  &quot;qty&quot;: [\n    1,\n    2\n  ]\n}</pre>", Show("{\"item\":\"책\",\"qty\":[1,2]}"));
        Assert.Equal("<pre class=\"text\">42</pre>", Show("42"));                 // a bare number reads better as text
        Assert.Equal("<pre class=\"text\">{not json</pre>", Show("{not json"));
        Assert.Contains("class=\"hex\"", Show("{\"a\":1}", ValueFormat.Hex), StringComparison.Ordinal);
        Assert.Contains("class=\"hex\"", RecordFormat.Format(new byte[] { 0x62, 0x01, 0xff }, ValueFormat.Auto).Value, StringComparison.Ordinal);
        Assert.Equal("0000  62 69 6e 01 ff  bin..", RecordFormat.Hex([0x62, 0x69, 0x6e, 0x01, 0xff]));
        Assert.Equal("0000  30 31 32 33 34 35 36 37  01234567\n0008  38                       8", RecordFormat.Hex(Encoding.ASCII.GetBytes("012345678")));
    }

    [Fact]
    public void Lag_history_keeps_the_last_samples_of_groups_that_still_exist()
    {
        var history = new Samsa.Broker.WebConsole.Timeline.LagHistory(capacity: 3);
        var t0 = DateTimeOffset.UnixEpoch;
        for (int i = 0; i < 5; i++)
            history.Record("g", t0.AddSeconds(i), i * 10);
        history.Record("gone", t0, 1);
        Assert.Equal([20L, 30L, 40L], history.Of("g").Select(s => s.Lag));
        history.Retain(new HashSet<string> { "g" });
        Assert.Empty(history.Of("gone"));
        Assert.Contains("<polyline", LagChart.Render(history.Of("g")).ToString(), StringComparison.Ordinal);
        Assert.Contains("class=\"empty\"", LagChart.Render([]).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Topic_rates_are_taken_over_the_samples_kept_and_never_go_negative()
    {
        var rates = new Samsa.Broker.WebConsole.Timeline.TopicRates(capacity: 3);
        var t0 = DateTimeOffset.UnixEpoch;
        rates.Record("t", t0, produced: 100, consumed: 0);
        Assert.Null(rates.Of("t"));
        rates.Record("t", t0.AddSeconds(5), produced: 150, consumed: 20);
        Assert.Equal((10.0, 4.0), rates.Of("t"));
        rates.Record("t", t0.AddSeconds(10), produced: 150, consumed: 40);
        rates.Record("t", t0.AddSeconds(15), produced: 160, consumed: 10); // a group deleted: committed offsets fell
        Assert.Equal((1.0, 0.0), rates.Of("t")); // the oldest sample (t0) has dropped out: 150 → 160 over 10 s
        rates.Retain(new HashSet<string>());
        Assert.Null(rates.Of("t"));
        Assert.Equal("0.4", Show.Rate(0.4));
        Assert.Equal("1,234", Show.Rate(1234.4));
    }

    [Fact]
    public void The_console_binds_loopback_unless_a_host_is_named()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), BrokerConfig.ParseUiEndpoint("8080"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), BrokerConfig.ParseUiEndpoint(":8080"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), BrokerConfig.ParseUiEndpoint("127.0.0.1:8080"));
        Assert.Equal(new IPEndPoint(IPAddress.Any, 8080), BrokerConfig.ParseUiEndpoint("0.0.0.0:8080"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8081), BrokerConfig.Apply(new BrokerOptions(), "ui.listeners", "localhost:8081").UiListen);
        Assert.Null(new BrokerOptions().UiListen);
        Assert.Throws<BrokerConfigException>(() => BrokerConfig.Apply(new BrokerOptions(), "ui.listeners", "nonsense"));
    }
}
