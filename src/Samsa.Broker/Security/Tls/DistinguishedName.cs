using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Samsa.Broker.Security.Tls;

/// <summary>
/// A certificate subject in RFC 2253 form as Java's X500Principal.getName() writes it, which is
/// what Kafka's principal builder maps: most specific name first, no spaces after commas
/// (<c>CN=client,OU=eng,O=acme,C=DE</c>), RFC 2253's keywords for the attributes it names and the
/// dotted OID with the DER value in hex (<c>1.2.840.113549.1.9.1=#16...</c>) for any other.
/// </summary>
internal static class DistinguishedName
{
    private static readonly Dictionary<string, string> Keywords = new(StringComparer.Ordinal)
    {
        ["2.5.4.3"] = "CN",
        ["2.5.4.6"] = "C",
        ["2.5.4.7"] = "L",
        ["2.5.4.8"] = "ST",
        ["2.5.4.10"] = "O",
        ["2.5.4.11"] = "OU",
        ["2.5.4.9"] = "STREET",
        ["0.9.2342.19200300.100.1.25"] = "DC",
        ["0.9.2342.19200300.100.1.1"] = "UID",
    };

    public static string Format(X500DistinguishedName name)
    {
        var rdns = new List<string>();
        var reader = new AsnReader(name.RawData, AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        while (sequence.HasData)
        {
            var set = sequence.ReadSetOf();
            var parts = new List<string>();
            while (set.HasData)
            {
                var attribute = set.ReadSequence();
                string oid = attribute.ReadObjectIdentifier();
                var encoded = attribute.ReadEncodedValue();
                parts.Add(Keywords.TryGetValue(oid, out var keyword) && TryReadString(encoded, out var text)
                    ? $"{keyword}={Escape(text)}"
                    : $"{oid}=#{Convert.ToHexStringLower(encoded.Span)}");
            }
            rdns.Add(string.Join('+', parts));
        }
        rdns.Reverse();
        return string.Join(',', rdns);
    }

    private static bool TryReadString(ReadOnlyMemory<byte> encoded, out string text)
    {
        text = "";
        var reader = new AsnReader(encoded, AsnEncodingRules.BER);
        var tag = reader.PeekTag();
        if (tag.TagClass != TagClass.Universal)
            return false;
        var type = (UniversalTagNumber)tag.TagValue;
        if (type is not (UniversalTagNumber.UTF8String or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String
            or UniversalTagNumber.BMPString or UniversalTagNumber.T61String or UniversalTagNumber.VisibleString))
            return false;
        try
        {
            text = reader.ReadCharacterString(type);
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    private static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            bool special = c is ',' or '+' or '"' or '\\' or '<' or '>' or ';'
                || (i == 0 && c is '#' or ' ')
                || (i == value.Length - 1 && c == ' ');
            if (special)
                sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
