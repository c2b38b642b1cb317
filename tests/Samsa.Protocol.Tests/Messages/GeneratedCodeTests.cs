using Samsa.Protocol.Generator;

namespace Samsa.Protocol.Tests.Messages;

public class GeneratedCodeTests
{
    [Fact]
    public void Checked_in_generated_code_matches_the_schemas()
    {
        var expected = MessageGenerator.Generate(MessageGeneratorPaths.SchemaDirectory);
        var onDisk = Directory.GetFiles(MessageGeneratorPaths.OutputDirectory, "*.g.cs")
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllText, StringComparer.Ordinal);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), onDisk.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, content) in expected)
            Assert.True(content == onDisk[file], $"{file} is out of date: run `dotnet run --project tools/Samsa.Protocol.Generator`.");
    }
}
