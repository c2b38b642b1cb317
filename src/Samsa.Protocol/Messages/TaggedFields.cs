using Samsa.Protocol.Primitives;

namespace Samsa.Protocol.Messages;

/// <summary>Helpers generated messages call for the tagged-field section.</summary>
public static class TaggedFields
{
    /// <summary>
    /// Writes the unknown fields whose tags come before <paramref name="beforeTag"/>, so known and
    /// unknown fields together go out in ascending tag order as the protocol requires.
    /// </summary>
    public static void WriteUnknown(ref ProtocolWriter writer, List<RawTaggedField>? unknown, ref int index, int beforeTag)
    {
        if (unknown is null)
            return;
        while (index < unknown.Count && unknown[index].Tag < beforeTag)
        {
            writer.WriteTaggedField(unknown[index].Tag, unknown[index].Data);
            index++;
        }
    }
}
