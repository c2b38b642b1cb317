using System.Globalization;
using System.Text.Json;

namespace Samsa.Protocol.Generator;

/// <summary>A version range from a schema file: "N+", "N-M", "N" or "none".</summary>
internal readonly record struct VersionRange(short Low, short High)
{
    public static readonly VersionRange None = new(1, 0);

    public bool IsNone => Low > High;

    public bool Contains(short v) => v >= Low && v <= High;

    public static VersionRange Parse(string? text, string where)
    {
        if (text is null or "none")
            return None;
        try
        {
            if (text.EndsWith('+'))
                return new(short.Parse(text[..^1], CultureInfo.InvariantCulture), short.MaxValue);
            int dash = text.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0)
                return new(short.Parse(text[..dash], CultureInfo.InvariantCulture), short.Parse(text[(dash + 1)..], CultureInfo.InvariantCulture));
            short v = short.Parse(text, CultureInfo.InvariantCulture);
            return new(v, v);
        }
        catch (FormatException e)
        {
            throw new SchemaException($"{where}: bad version range '{text}'", e);
        }
    }

    public VersionRange Intersect(VersionRange other) => new(Math.Max(Low, other.Low), Math.Min(High, other.High));

    /// <summary>A C# condition on <c>version</c> true exactly inside this range, given the message's own range.</summary>
    public string Condition(VersionRange outer)
    {
        var r = Intersect(outer);
        if (r.IsNone)
            return "false";
        bool low = r.Low > outer.Low;
        bool high = r.High < outer.High;
        if (!low && !high)
            return "true";
        if (low && high)
            return r.Low == r.High ? $"version == {r.Low}" : $"version >= {r.Low} && version <= {r.High}";
        return low ? $"version >= {r.Low}" : $"version <= {r.High}";
    }
}

internal sealed class SchemaException(string message, Exception? inner = null) : Exception(message, inner);

internal sealed class FieldSpec
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public required VersionRange Versions { get; init; }
    public VersionRange NullableVersions { get; init; } = VersionRange.None;
    public VersionRange TaggedVersions { get; init; } = VersionRange.None;
    public VersionRange? FlexibleOverride { get; init; }
    public int? Tag { get; init; }
    public JsonElement? Default { get; init; }
    public List<FieldSpec>? Fields { get; init; }

    public bool IsArray => Type.StartsWith("[]", StringComparison.Ordinal);
    public string ElementType => IsArray ? Type[2..] : Type;
    public bool IsTagged => Tag is not null;
    public bool IsNullableAnywhere => !NullableVersions.IsNone;
}

internal sealed class StructSpec
{
    public required string Name { get; init; }
    public required List<FieldSpec> Fields { get; init; }
    public string ClassName { get; set; } = "";
}

internal sealed class MessageSpec
{
    public required string Kind { get; init; }
    public required string Name { get; init; }
    public int? ApiKey { get; init; }
    public required VersionRange Valid { get; init; }
    public required VersionRange Flexible { get; init; }
    public string? Doc { get; init; }
    public required List<FieldSpec> Fields { get; init; }
    public List<StructSpec> CommonStructs { get; init; } = [];
    public string File { get; init; } = "";
}

internal static class SchemaLoader
{
    private static readonly HashSet<string> Primitives =
        ["bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "uuid", "string", "bytes", "records"];

    public static bool IsPrimitive(string type) => Primitives.Contains(type);

    public static MessageSpec Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var root = doc.RootElement;
        string where = Path.GetFileName(path);
        string name = Req(root, "name", where);
        var spec = new MessageSpec
        {
            Kind = Req(root, "kind", where),
            Name = name,
            ApiKey = root.TryGetProperty("apiKey", out var k) ? k.GetInt32() : null,
            Valid = VersionRange.Parse(Req(root, "validVersions", where), where),
            Flexible = VersionRange.Parse(Opt(root, "flexibleVersions") ?? "none", where),
            Doc = Opt(root, "doc"),
            Fields = ParseFields(root, $"{where}"),
            CommonStructs = root.TryGetProperty("commonStructs", out var cs)
                ? cs.EnumerateArray().Select(s => new StructSpec { Name = Req(s, "name", where), Fields = ParseFields(s, where) }).ToList()
                : [],
            File = where,
        };
        if (spec.Kind is not ("request" or "response" or "header" or "data"))
            throw new SchemaException($"{where}: unknown kind '{spec.Kind}'");
        if (spec.Kind is "request" or "response" && spec.ApiKey is null)
            throw new SchemaException($"{where}: {spec.Kind} without apiKey");
        return spec;
    }

    private static List<FieldSpec> ParseFields(JsonElement owner, string where)
    {
        var list = new List<FieldSpec>();
        if (!owner.TryGetProperty("fields", out var fields))
            return list;
        foreach (var f in fields.EnumerateArray())
        {
            string name = Req(f, "name", where);
            string at = $"{where}: field {name}";
            var field = new FieldSpec
            {
                Name = name,
                Type = Req(f, "type", at),
                Versions = VersionRange.Parse(Req(f, "versions", at), at),
                NullableVersions = VersionRange.Parse(Opt(f, "nullableVersions"), at),
                TaggedVersions = VersionRange.Parse(Opt(f, "taggedVersions"), at),
                FlexibleOverride = Opt(f, "flexibleVersions") is { } fo ? VersionRange.Parse(fo, at) : null,
                Tag = f.TryGetProperty("tag", out var t) ? t.GetInt32() : null,
                Default = f.TryGetProperty("default", out var d) ? d.Clone() : null,
                Fields = f.TryGetProperty("fields", out _) ? ParseFields(f, at) : null,
            };
            if (field.IsTagged != !field.TaggedVersions.IsNone)
                throw new SchemaException($"{at}: tag and taggedVersions go together");
            list.Add(field);
        }
        return list;
    }

    private static string Req(JsonElement e, string prop, string where) =>
        e.TryGetProperty(prop, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new SchemaException($"{where}: missing \"{prop}\"");

    private static string? Opt(JsonElement e, string prop) =>
        e.TryGetProperty(prop, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
