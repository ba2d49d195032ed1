using System.Net.Http.Json;
using System.Text.Json;
using LatentDiffusion.IO;
using Microsoft.Playwright;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// The page in a real browser: Debian's chromium driven by Playwright (its own browser download is never used). The
/// tests are skipped, visibly, where /usr/bin/chromium is missing (.ci/run installs it). Set LDM_SERVE_SCREENSHOT to a
/// path to keep the screenshot of the generated grid (the README's docs/serve.png comes from here).
/// </summary>
[Trait("Category", "Slow")]
[Collection("Serve")]
public sealed class ServePageBrowserTests
{
    static Task<(IPlaywright, IBrowser)> Launch() => DebianChromium.Launch();

    /// <summary>A new tab on <paramref name="server"/>'s page, once the page says it is ready (models listed).</summary>
    static async Task<IPage> OpenReady(IBrowser browser, ServeProcess server, BrowserNewPageOptions? options = null)
    {
        IPage page = await browser.NewPageAsync(options);
        await page.GotoAsync(server.Url.ToString());
        await page.WaitForSelectorAsync("body[data-state='ready']");
        return page;
    }

    [SkippableFact]
    public async Task Page_GeneratesDigits_ShowsTheDenoisingTheGridAndTheClassifiersLabels()
    {
        (IPlaywright playwright, IBrowser browser) = await Launch();
        using var _ = playwright;
        await using var __ = browser;
        string docs = RepositoryPaths.Find("docs") ?? throw new DirectoryNotFoundException("docs");
        string models = RepositoryPaths.Find("models") ?? throw new DirectoryNotFoundException("models");
        using ServeProcess server = ServeProcess.Start("--models", models, "--docs", docs);
        IPage page = await OpenReady(browser, server, new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 900 } });

        await page.SelectOptionAsync("#model", "diffusion");
        await page.SelectOptionAsync("#sampler", "ddim");
        await page.FillAsync("#steps", "20");
        await page.FillAsync("#count", "16");
        await page.FillAsync("#seed", "3");
        Assert.True(await page.IsDisabledAsync("#digit"), "an unconditional model cannot be asked for a digit");
        Assert.False(await page.IsHiddenAsync("#eta-field"));
        await page.ClickAsync("#generate");
        await page.WaitForSelectorAsync("body[data-state='done']", new PageWaitForSelectorOptions { Timeout = 120_000 });

        Assert.Equal("20", await page.GetAttributeAsync("body", "data-frames"));         // one frame a step, shown while sampling
        Assert.True(await page.EvalOnSelectorAsync<bool>("#grid", "img => img.complete && img.naturalWidth > 400 && img.src.startsWith('data:image/png')"));
        var readings = await page.QuerySelectorAllAsync("#readings li");
        Assert.Equal(16, readings.Count);
        foreach (IElementHandle reading in readings)
            Assert.Matches(@"^#\d+ read \d \d+%$", (await reading.InnerTextAsync()).Trim());
        Assert.Matches(@"16 digits from diffusion .*ddim 20 steps, seed 3: \d+\.\d\d s", await page.InnerTextAsync("#summary"));
        Assert.StartsWith("Done in", await page.InnerTextAsync("#status"));
        byte[] screenshot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        if (Environment.GetEnvironmentVariable("LDM_SERVE_SCREENSHOT") is { Length: > 0 } path) AtomicFile.WriteAllBytes(path, screenshot);

        await page.ClickAsync("#tab-reports");
        await page.WaitForSelectorAsync("#fid-table table");
        string table = await page.InnerTextAsync("#fid-table table");
        Assert.Contains("Diffusion", table);
        Assert.Contains("Validation", table);
        string[] urls = await page.EvalOnSelectorAllAsync<string[]>("#report-links button", "bs => bs.map(b => b.dataset.url)");
        string[] expected = ["part1", "part2", "part3", "colored-mnist", "conditional", "fashion-mnist"];   // the series' parts in order, then the rest by name
        Assert.Equal(expected.Select(name => $"/docs/{name}/index.html"), urls);
        Assert.Equal("/docs/part1/index.html", await page.GetAttributeAsync("#report-frame", "src"));
        await page.ClickAsync("#report-links button:nth-child(3)");
        IFrame? report = page.Frames.FirstOrDefault(f => f.Url.EndsWith("/docs/part3/index.html", StringComparison.Ordinal));
        for (int i = 0; report is null && i < 50; i++)
        {
            await Task.Delay(100);
            report = page.Frames.FirstOrDefault(f => f.Url.EndsWith("/docs/part3/index.html", StringComparison.Ordinal));
        }
        Assert.NotNull(report);
        await report.WaitForSelectorAsync("img[src='samples.png']");
        Assert.True(await report.EvalOnSelectorAsync<bool>("img[src='samples.png']", "img => img.complete && img.naturalWidth > 0"));
    }

    [SkippableFact]
    public async Task Page_ConditionalModel_AsksForTheDigitAndShowsWhatWasRead()
    {
        (IPlaywright playwright, IBrowser browser) = await Launch();
        using var _ = playwright;
        await using var __ = browser;
        using var dir = new TempDirectory();
        using ServeProcess server = ServeProcess.Start("--models", ServeModels.Create(dir));
        IPage page = await OpenReady(browser, server);
        Assert.Equal("true", await page.EvalOnSelectorAsync<string>("#model option[value='misfit']", "o => String(o.disabled)"));   // listed, not selectable
        await page.SelectOptionAsync("#model", "conditional");
        Assert.Equal(["iadb", "heun", "iadb2m"], await page.EvalOnSelectorAllAsync<string[]>("#sampler option", "os => os.map(o => o.value)"));   // what /api/models lists
        Assert.True(await page.IsHiddenAsync("#eta-field"), "η is DDIM's");
        await page.SelectOptionAsync("#sampler", "heun");
        await page.SelectOptionAsync("#digit", "7");
        await page.FillAsync("#guidance", "3");
        await page.FillAsync("#steps", "5");
        await page.FillAsync("#count", "4");
        await page.ClickAsync("#generate");
        await page.WaitForSelectorAsync("body[data-state='done']", new PageWaitForSelectorOptions { Timeout = 60_000 });
        var readings = await page.QuerySelectorAllAsync("#readings li");
        Assert.Equal(4, readings.Count);
        foreach (IElementHandle reading in readings) Assert.Contains("asked 7, read", await reading.InnerTextAsync());
        Assert.Contains("guidance 3", await page.InnerTextAsync("#summary"));
    }

    [SkippableFact]
    public async Task Page_AnotherDatasetsModel_OffersItsClassesByName()
    {
        (IPlaywright playwright, IBrowser browser) = await Launch();
        using var _ = playwright;
        await using var __ = browser;
        using var dir = new TempDirectory();
        using ServeProcess server = ServeProcess.Start("--models", ServeModels.Create(dir), ServeModels.CreateRgb(dir, "colours"));
        IPage page = await OpenReady(browser, server);
        await page.SelectOptionAsync("#model", "colours/conditional");
        Assert.Equal("Class", await page.InnerTextAsync("#digit-label"));
        Assert.Equal(["random", "red", "green", "blue"], await page.EvalOnSelectorAllAsync<string[]>("#digit option", "os => os.map(o => o.textContent)"));
        await page.SelectOptionAsync("#digit", new SelectOptionValue { Label = "green" });
        await page.FillAsync("#steps", "3");
        await page.FillAsync("#count", "4");
        await page.ClickAsync("#generate");
        await page.WaitForSelectorAsync("body[data-state='done']", new PageWaitForSelectorOptions { Timeout = 60_000 });
        Assert.True(await page.EvalOnSelectorAsync<bool>("#grid", "img => img.complete && img.naturalWidth >= 4 * 64"));
        var readings = await page.QuerySelectorAllAsync("#readings li");
        Assert.Equal(4, readings.Count);
        foreach (IElementHandle reading in readings) Assert.Matches(@"asked green, read (red|green|blue) \d+%", await reading.InnerTextAsync());
        Assert.Contains("4 images from colours/conditional", await page.InnerTextAsync("#summary"));

        await page.SelectOptionAsync("#model", "conditional");                               // back to MNIST: its digits
        Assert.Equal("Digit", await page.InnerTextAsync("#digit-label"));
        Assert.Equal(11, (await page.QuerySelectorAllAsync("#digit option")).Count);
    }

    [SkippableFact]
    public async Task Page_ClosedWhileSampling_CancelsItsGeneration()
    {
        (IPlaywright playwright, IBrowser browser) = await Launch();
        using var _ = playwright;
        await using var __ = browser;
        using var dir = new TempDirectory();
        using ServeProcess server = ServeProcess.Start("--models", ServeModels.Create(dir));
        IPage page = await OpenReady(browser, server);
        await page.SelectOptionAsync("#model", "diffusion");
        await page.SelectOptionAsync("#sampler", "ddpm");                                  // all 1000 steps of 64 digits: seconds
        await page.FillAsync("#count", "64");
        await page.ClickAsync("#generate");
        await page.WaitForFunctionAsync("Number(document.body.dataset.frames) >= 1", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        await page.CloseAsync();                                                            // the tab closes mid-generation

        var watch = System.Diagnostics.Stopwatch.StartNew();
        JsonElement status;
        do
        {
            await Task.Delay(100);
            status = await server.Http.GetFromJsonAsync<JsonElement>("api/status");
        }
        while ((status.GetProperty("cancelled").GetInt64() == 0 || !server.Log.Contains("cancelled: ")) && watch.Elapsed < TimeSpan.FromSeconds(20));
        Assert.Equal(1, status.GetProperty("cancelled").GetInt64());
        Assert.Equal(0, status.GetProperty("completed").GetInt64());
        Assert.Contains("cancelled: diffusion: 64 digits, DDPM 1000 steps", server.Log);
    }
}
