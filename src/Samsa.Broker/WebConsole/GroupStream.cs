using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Samsa.Broker.WebConsole.Pages;

namespace Samsa.Broker.WebConsole;

/// <summary>
/// A group page's server-sent events: after every applied change of any group (woken by the
/// <see cref="GroupWatcher"/>, never by polling the coordinator) and every couple of seconds for lag
/// and the timeline's moving "now", it sends the page's fragments, rendered exactly as the page
/// renders them, as one JSON object of element id → HTML. Bursts of changes coalesce: each wake-up
/// renders the latest view once.
/// </summary>
internal static class GroupStream
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(2);

    public static async Task RunAsync(HttpContext http, ConsoleContext c, string groupId)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-store";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var stopping = http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var done = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var token = done.Token;
        try
        {
            // Tell the browser how soon to reconnect after the broker restarts.
            await http.Response.WriteAsync("retry: 2000\n\n", token).ConfigureAwait(false);
            while (!token.IsCancellationRequested)
            {
                var changed = c.Watcher.Changed; // taken before reading, so no change slips between
                c.Watcher.Tick(c.Time.GetUtcNow());
                string payload;
                string kind = "update";
                if (c.Groups.View(groupId) is { } view)
                {
                    var fragments = GroupPage.Fragments(c, view).ToDictionary(f => f.Id, f => f.Fragment.ToString());
                    payload = JsonSerializer.Serialize(fragments, ConsoleJson.Default.DictionaryStringString);
                }
                else
                {
                    kind = "gone";
                    payload = "{}";
                }
                await http.Response.WriteAsync($"event: {kind}\ndata: {payload}\n\n", Encoding.UTF8, token).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(token).ConfigureAwait(false);
                await Task.WhenAny(changed, Task.Delay(Refresh, c.Time, token)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The page was closed or the console is stopping.
        }
    }
}

/// <summary>Source-generated JSON for the console's event stream (no reflection, so trimming keeps it working).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ConsoleJson : System.Text.Json.Serialization.JsonSerializerContext;
