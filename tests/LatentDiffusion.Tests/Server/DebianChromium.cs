using Microsoft.Playwright;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// Debian's chromium (/usr/bin/chromium) under Playwright, headless; Playwright's own browser download is never used.
/// Where chromium is missing the calling test is skipped, visibly (.ci/run installs it).
/// </summary>
internal static class DebianChromium
{
    public const string Path = "/usr/bin/chromium";

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> Launch()
    {
        Skip.IfNot(File.Exists(Path), $"{Path} is not installed (apt-get install chromium): the browser tests need it");
        IPlaywright playwright = await Playwright.CreateAsync();
        IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Path, Headless = true });
        return (playwright, browser);
    }
}
