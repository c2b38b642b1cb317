using Samsa.Protocol.Generator;

// Usage: dotnet run --project tools/Samsa.Protocol.Generator [-- --check]
// Writes src/Samsa.Protocol/Messages/Generated from src/Samsa.Protocol/Schemas; with --check,
// changes nothing and exits 1 when the checked-in files differ from what would be written.
bool check = args.Contains("--check");
string root = MessageGenerator.FindRepositoryRoot(Directory.GetCurrentDirectory());
SortedDictionary<string, string> files;
try
{
    files = MessageGenerator.Generate(MessageGenerator.SchemaDirectory(root));
}
catch (Exception e) when (e is SchemaException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine($"schema error: {e.Message}");
    return 2;
}

string outDir = MessageGenerator.OutputDirectory(root);
Directory.CreateDirectory(outDir);
var stale = Directory.GetFiles(outDir, "*.g.cs").Select(Path.GetFileName).Where(f => !files.ContainsKey(f!)).ToList();
var changed = files.Where(kv =>
{
    string path = Path.Combine(outDir, kv.Key);
    return !File.Exists(path) || File.ReadAllText(path) != kv.Value;
}).Select(kv => kv.Key).ToList();

if (check)
{
    foreach (var f in changed)
        Console.Error.WriteLine($"out of date: {f}");
    foreach (var f in stale)
        Console.Error.WriteLine($"stale: {f}");
    return changed.Count + stale.Count == 0 ? 0 : 1;
}

foreach (var f in changed)
    File.WriteAllText(Path.Combine(outDir, f), files[f]);
foreach (var f in stale)
    File.Delete(Path.Combine(outDir, f!));
Console.WriteLine($"{files.Count} files, {changed.Count} written, {stale.Count} removed.");
return 0;
