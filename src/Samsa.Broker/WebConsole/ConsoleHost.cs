using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Samsa.Broker.Metrics;
using Samsa.Broker.WebConsole.Pages;

namespace Samsa.Broker.WebConsole;

/// <summary>
/// The web console: Kestrel on <see cref="BrokerOptions.UiListen"/> inside the broker process,
/// serving server-rendered pages (GET only: nothing here changes broker state), a server-sent event
/// stream per group page, the embedded CSS and JS, and Prometheus' /metrics. Built on the empty
/// WebApplication builder so no environment variable or appsettings file can move or widen it.
/// </summary>
internal sealed class ConsoleHost : IAsyncDisposable
{
    private static readonly TimeSpan LagSampling = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly GroupWatcher _watcher;
    private readonly ITimer _lagSampler;

    private ConsoleHost(WebApplication app, ConsoleContext context, string address, ILogger logger)
    {
        _app = app;
        _watcher = context.Watcher;
        Address = address;
        _lagSampler = context.Time.CreateTimer(_ =>
        {
            try
            {
                context.SampleLag();
            }
            catch (Exception e)
            {
                // A timer callback must never throw: that would end the process.
                logger.LogWarning(e, "Sampling group lag failed");
            }
        }, null, TimeSpan.Zero, LagSampling);
    }

    /// <summary>The console's base URL, with the port Kestrel bound (port 0 picks one).</summary>
    public string Address { get; }

    public static async Task<ConsoleHost> StartAsync(IPEndPoint endpoint, ConsoleContext context, IReadOnlyDictionary<string, string>? users,
        BrokerMetrics metrics, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Samsa.Broker" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(endpoint);
            k.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        // The broker owns the process: no console lifetime that would take Ctrl+C for itself.
        builder.Services.AddSingleton<IHostLifetime, BrokerOwnedLifetime>();
        // Event streams end on ApplicationStopping; nothing else should hold shutdown up.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(BrokerMetrics.MeterName).AddPrometheusExporter());
        var app = builder.Build();

        if (users is not null)
            app.Use(BasicAuthentication.Require(users));
        Map(app, context);
        app.MapPrometheusScrapingEndpoint("/metrics");

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? $"http://{endpoint}";
        context.UiAddress = address;
        var logger = loggerFactory.CreateLogger<ConsoleHost>();
        logger.LogInformation("Samsa console on {Address}{Auth}", address, users is null ? "" : " (HTTP Basic, sasl.plain.users)");
        return new ConsoleHost(app, context, address, logger);
    }

    private static void Map(WebApplication app, ConsoleContext c)
    {
        app.MapGet("/", http => Html(http, FrontPage.Render(c)));
        app.MapGet("/topics/{name}", http => Html(http, TopicPage.Render(c, Route(http, "name"))));
        app.MapGet("/topics/{name}/messages", http =>
        {
            var q = http.Request.Query;
            int partition = int.TryParse(q["partition"], out int p) ? p : 0;
            long? offset = long.TryParse(q["offset"], out long o) ? o : null;
            int limit = int.TryParse(q["limit"], out int l) ? l : MessagesPage.DefaultLimit;
            return Html(http, MessagesPage.Render(c, Route(http, "name"), partition, offset, limit, RecordFormat.Parse(q["format"])));
        });
        app.MapGet("/groups/{id}", http => Html(http, GroupPage.Render(c, Route(http, "id"))));
        app.MapGet("/groups/{id}/events", http => GroupStream.RunAsync(http, c, Route(http, "id")));
        app.MapGet("/assets/{file}", http => Assets.ServeAsync(http, Route(http, "file")));
    }

    private static string Route(HttpContext http, string name) => http.Request.RouteValues[name] as string ?? "";

    private static Task Html(HttpContext http, string? page)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (page is null)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            page = Layout.Page("Not found", new Html().Add($"<h1>Not found</h1><p class=\"empty\">No such topic, partition or group (or it was just deleted).</p>"), [("Overview", "/")]);
        }
        http.Response.ContentType = "text/html; charset=utf-8";
        return http.Response.WriteAsync(page, Encoding.UTF8, http.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _lagSampler.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _watcher.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Starting and stopping are the broker's calls; signals are the host application's (the CLI handles them).</summary>
internal sealed class BrokerOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
