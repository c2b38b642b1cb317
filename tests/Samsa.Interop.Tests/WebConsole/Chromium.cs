using Microsoft.Playwright;

namespace Samsa.Interop.Tests.WebConsole;

/// <summary>
/// Debian's chromium driven by Playwright. Playwright's own browser builds cannot be downloaded
/// here, so nothing ever runs `playwright install`: the tests point it at /usr/bin/chromium, which
/// .ci/install-deps installs, and fail (not skip) when it is missing.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private Chromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Where screenshots go: TestResults/console under the test output directory.</summary>
    public static string Screenshots { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "TestResults", "console")).FullName;

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
            Assert.Fail($"{ExecutablePath} is missing: run .ci/install-deps (it installs Debian's chromium for the console's browser tests).");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                // Root in CI has no user namespaces for chromium's sandbox; /dev/shm may be small.
                Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            });
            return new Chromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async Task<IPage> NewPageAsync(HttpCredentials? credentials = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            HttpCredentials = credentials,
        });
        return await context.NewPageAsync();
    }

    public static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
