namespace Samsa.Protocol.Generator;

/// <summary>Turns the schema folder into generated sources: file name → content.</summary>
public static class MessageGenerator
{
    public static SortedDictionary<string, string> Generate(string schemaDirectory)
    {
        var specs = Directory.GetFiles(schemaDirectory, "*.json")
            .Order(StringComparer.Ordinal)
            .Select(SchemaLoader.Load)
            .ToList();
        var output = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (Path.GetFileNameWithoutExtension(spec.File) != spec.Name)
                throw new SchemaException($"{spec.File}: file name must match name '{spec.Name}'");
            output.Add(spec.Name + ".g.cs", new MessageEmitter(spec).Emit());
        }
        output.Add("ApiMessages.g.cs", RegistryEmitter.Emit(specs));
        return output;
    }

    /// <summary>The repository root: the nearest folder above <paramref name="start"/> holding Samsa.slnx.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Samsa.slnx")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No Samsa.slnx above {start}.");
    }

    public static string SchemaDirectory(string root) => Path.Combine(root, "src", "Samsa.Protocol", "Schemas");

    public static string OutputDirectory(string root) => Path.Combine(root, "src", "Samsa.Protocol", "Messages", "Generated");
}
