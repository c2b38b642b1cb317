using Samsa.Client.Consumer;
using Samsa.Client.Producer;

namespace Samsa.Client.Tests.Consumer;

public class ConfigDocTests
{
    [Fact]
    public void Every_client_setting_is_documented()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Samsa.slnx")))
            dir = dir.Parent;
        string doc = File.ReadAllText(Path.Combine(dir!.FullName, "docs", "client-config.md"));
        foreach (var key in ConsumerOptions.KnownKeys.Concat(ProducerOptions.KnownKeys))
            Assert.Contains($"`{key}`", doc, StringComparison.Ordinal);
    }
}
