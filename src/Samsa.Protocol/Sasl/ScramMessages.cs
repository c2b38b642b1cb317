using System.Text;

namespace Samsa.Protocol.Sasl;

/// <summary>The client-first message: GS2 header (no channel binding), user name, nonce, extensions.</summary>
public sealed record ScramClientFirst(string AuthorizationId, string UserName, string Nonce, string Bare, string Gs2Header);

/// <summary>The client-final message, with the part the proof signs.</summary>
public sealed record ScramClientFinal(byte[] ChannelBinding, string Nonce, byte[] Proof, string WithoutProof);

/// <summary>The server-first message.</summary>
public sealed record ScramServerFirst(string Nonce, byte[] Salt, int Iterations, string Text);

/// <summary>
/// SCRAM's messages (RFC 5802 section 7) as Kafka exchanges them: no channel binding (GS2 flag
/// "n"), user names with "=2C" and "=3D" for ',' and '=', extensions (KIP-84's tokenauth and the
/// like) after the nonce. Parsing throws <see cref="FormatException"/> with what is wrong.
/// </summary>
public static class ScramMessages
{
    public static ScramClientFirst ParseClientFirst(string message)
    {
        // gs2-header = "n," [ "a=" saslname ] ","
        if (!message.StartsWith("n,", StringComparison.Ordinal))
            throw new FormatException("SCRAM client-first message must start with 'n,' (channel binding is not supported).");
        int comma = message.IndexOf(',', 2);
        if (comma < 0)
            throw new FormatException("SCRAM client-first message has no complete GS2 header.");
        string authzid = "";
        string a = message[2..comma];
        if (a.Length > 0)
        {
            if (!a.StartsWith("a=", StringComparison.Ordinal))
                throw new FormatException("SCRAM GS2 header: expected 'a=authzid'.");
            authzid = DecodeSaslName(a[2..]);
        }
        string gs2 = message[..(comma + 1)];
        string bare = message[(comma + 1)..];
        var fields = bare.Split(',');
        int i = 0;
        if (fields.Length > 0 && fields[0].StartsWith("m=", StringComparison.Ordinal))
            throw new FormatException("SCRAM mandatory extension (m=) is not supported.");
        if (fields.Length < 2 || !fields[i].StartsWith("n=", StringComparison.Ordinal) || !fields[i + 1].StartsWith("r=", StringComparison.Ordinal))
            throw new FormatException("SCRAM client-first message: expected n=user,r=nonce.");
        string user = DecodeSaslName(fields[i][2..]);
        string nonce = fields[i + 1][2..];
        if (user.Length == 0 || nonce.Length == 0 || !Printable(nonce))
            throw new FormatException("SCRAM client-first message: empty user name or a bad nonce.");
        for (int e = i + 2; e < fields.Length; e++)
        {
            int eq = fields[e].IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new FormatException($"SCRAM extension '{fields[e]}' is not key=value.");
        }
        return new ScramClientFirst(authzid, user, nonce, bare, gs2);
    }

    public static ScramClientFinal ParseClientFinal(string message)
    {
        int p = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (!message.StartsWith("c=", StringComparison.Ordinal) || p < 0)
            throw new FormatException("SCRAM client-final message: expected c=...,r=...,p=....");
        string withoutProof = message[..p];
        var fields = withoutProof.Split(',');
        if (fields.Length < 2 || !fields[1].StartsWith("r=", StringComparison.Ordinal))
            throw new FormatException("SCRAM client-final message: expected r=nonce after c=.");
        try
        {
            return new ScramClientFinal(Convert.FromBase64String(fields[0][2..]), fields[1][2..], Convert.FromBase64String(message[(p + 3)..]), withoutProof);
        }
        catch (FormatException e)
        {
            throw new FormatException("SCRAM client-final message: bad base64.", e);
        }
    }

    public static ScramServerFirst ParseServerFirst(string message)
    {
        string? nonce = null, salt = null, iterations = null;
        foreach (var field in message.Split(','))
        {
            if (field.StartsWith("m=", StringComparison.Ordinal))
                throw new FormatException("SCRAM mandatory extension (m=) is not supported.");
            if (field.StartsWith("r=", StringComparison.Ordinal))
                nonce ??= field[2..];
            else if (field.StartsWith("s=", StringComparison.Ordinal))
                salt ??= field[2..];
            else if (field.StartsWith("i=", StringComparison.Ordinal))
                iterations ??= field[2..];
        }
        if (nonce is null || salt is null || !int.TryParse(iterations, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i) || i <= 0)
            throw new FormatException($"SCRAM server-first message is malformed: '{message}'.");
        try
        {
            return new ScramServerFirst(nonce, Convert.FromBase64String(salt), i, message);
        }
        catch (FormatException e)
        {
            throw new FormatException("SCRAM server-first message: bad base64 salt.", e);
        }
    }

    /// <summary>"v=signature" or "e=error": the signature, or throws with the server's error.</summary>
    public static byte[] ParseServerFinal(string message)
    {
        if (message.StartsWith("e=", StringComparison.Ordinal))
            throw new ScramServerErrorException(message[2..].Split(',')[0]);
        if (!message.StartsWith("v=", StringComparison.Ordinal))
            throw new FormatException($"SCRAM server-final message is malformed: '{message}'.");
        return Convert.FromBase64String(message[2..].Split(',')[0]);
    }

    public static string ServerFirst(string nonce, byte[] salt, int iterations) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"r={nonce},s={Convert.ToBase64String(salt)},i={iterations}");

    public static string AuthMessage(string clientFirstBare, string serverFirst, string clientFinalWithoutProof) =>
        $"{clientFirstBare},{serverFirst},{clientFinalWithoutProof}";

    public static string EncodeSaslName(string name) => name.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);

    public static string DecodeSaslName(string name)
    {
        if (!name.Contains('=', StringComparison.Ordinal))
            return name;
        var sb = new StringBuilder(name.Length);
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] != '=')
            {
                sb.Append(name[i]);
                continue;
            }
            if (string.CompareOrdinal(name, i, "=2C", 0, 3) == 0)
                sb.Append(',');
            else if (string.CompareOrdinal(name, i, "=3D", 0, 3) == 0)
                sb.Append('=');
            else
                throw new FormatException("SCRAM user name has a '=' that is not =2C or =3D.");
            i += 2;
        }
        return sb.ToString();
    }

    private static bool Printable(string s)
    {
        foreach (char c in s)
        {
            if (c is < (char)0x21 or > (char)0x7e or ',')
                return false;
        }
        return true;
    }
}

/// <summary>The server answered the SCRAM exchange with "e=..." (RFC 5802's server-error).</summary>
public sealed class ScramServerErrorException(string error) : Exception($"The server refused the SCRAM exchange: {error}.")
{
    public string Error { get; } = error;
}
