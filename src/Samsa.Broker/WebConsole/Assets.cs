using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace Samsa.Broker.WebConsole;

/// <summary>The console's CSS and JS, embedded in the assembly (WebConsole/Assets): nothing to build, nothing on disk to find.</summary>
internal static class Assets
{
    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> Files = Load();

    public static Task ServeAsync(HttpContext http, string file)
    {
        if (!Files.TryGetValue(file, out var asset))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        http.Response.ContentType = asset.ContentType;
        http.Response.Headers.CacheControl = "no-cache";
        return http.Response.Body.WriteAsync(asset.Bytes, http.RequestAborted).AsTask();
    }

    private static FrozenDictionary<string, (byte[], string)> Load()
    {
        const string Prefix = "Samsa.Broker.WebConsole.";
        var assembly = typeof(Assets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            string file = name[Prefix.Length..];
            string type = Path.GetExtension(file) switch
            {
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            files[file] = (copy.ToArray(), type);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
