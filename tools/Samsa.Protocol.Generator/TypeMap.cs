using System.Globalization;
using System.Text.Json;

namespace Samsa.Protocol.Generator;

/// <summary>How each schema type maps to C#: property type, default value, reader and writer calls.</summary>
internal static class TypeMap
{
    public static string Scalar(string type) => type switch
    {
        "bool" => "bool",
        "int8" => "sbyte",
        "int16" => "short",
        "uint16" => "ushort",
        "int32" => "int",
        "uint32" => "uint",
        "int64" => "long",
        "float64" => "double",
        "uuid" => "Guid",
        "string" => "string",
        "bytes" => "byte[]",
        "records" => "ReadOnlyMemory<byte>?",
        _ => throw new SchemaException($"not a primitive type: {type}"),
    };

    public static string Method(string type) => type switch
    {
        "bool" => "Bool",
        "int8" => "Int8",
        "int16" => "Int16",
        "uint16" => "UInt16",
        "int32" => "Int32",
        "uint32" => "UInt32",
        "int64" => "Int64",
        "float64" => "Float64",
        "uuid" => "Uuid",
        _ => throw new SchemaException($"no fixed-size method for {type}"),
    };

    public static bool IsFixed(string type) => type is "bool" or "int8" or "int16" or "uint16" or "int32" or "uint32" or "int64" or "float64" or "uuid";

    /// <summary>The literal for a scalar field's default ("0" when the schema gives none).</summary>
    public static string ScalarDefault(string type, JsonElement? value, string where)
    {
        if (type == "uuid")
            return "Guid.Empty";
        if (type == "bool")
            return value is { ValueKind: JsonValueKind.True } || value is { ValueKind: JsonValueKind.String } s && s.GetString() == "true" ? "true" : "false";
        if (value is null)
            return "0";
        var v = value.Value;
        string raw = v.ValueKind switch
        {
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.String => v.GetString()!,
            _ => throw new SchemaException($"{where}: bad default {v.GetRawText()}"),
        };
        if (type == "float64")
            return double.Parse(raw, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture) + "d";
        long n = raw.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.Parse(raw[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : long.Parse(raw, CultureInfo.InvariantCulture);
        return type == "int64" ? n.ToString(CultureInfo.InvariantCulture) + "L" : n.ToString(CultureInfo.InvariantCulture);
    }

    public static bool DefaultIsNull(JsonElement? value) => value is { ValueKind: JsonValueKind.Null };

    public static string StringLiteral(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
