using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Samsa.Broker.WebConsole;

/// <summary>
/// With sasl.plain.users set, the console is behind the same users as the Kafka listener, asked
/// for with HTTP Basic (RFC 7617). Everything is covered, /metrics and the assets included: a
/// scraper passes credentials the same way. Passwords are compared in constant time.
/// </summary>
internal static class BasicAuthentication
{
    public static Func<HttpContext, RequestDelegate, Task> Require(IReadOnlyDictionary<string, string> users) => (http, next) =>
    {
        if (Authorized(http.Request.Headers.Authorization.ToString(), users))
            return next(http);
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"samsa\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    };

    internal static bool Authorized(string header, IReadOnlyDictionary<string, string> users)
    {
        const string Scheme = "Basic ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[Scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !users.TryGetValue(decoded[..colon], out var password))
            return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(decoded[(colon + 1)..]), Encoding.UTF8.GetBytes(password));
    }
}
