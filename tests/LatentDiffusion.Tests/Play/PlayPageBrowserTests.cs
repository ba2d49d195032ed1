using System.Diagnostics;
using System.Globalization;
using LatentDiffusion.IO;
using LatentDiffusion.Onnx;
using LatentDiffusion.Tests.Server;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace LatentDiffusion.Tests.Play;

/// <summary>
/// The browser page docs/play in Debian's chromium (Playwright; its own browser download is never used): opened from
/// disk with the network off, it makes each digit 0–9 asked for and its in-browser classifier reads them; the same seed gives ldm-lite's
/// digits; a missing model file is an error on the page; served by <c>ldm serve</c> at /play it works the same.
/// Skipped, visibly, without /usr/bin/chromium or without docs/play/ort (the build fetches it with npm). Set
/// LDM_PLAY_SCREENSHOT to a path to keep the screenshot of 16 digits (the README's docs/play.png comes from here).
/// </summary>
[Trait("Category", "Slow")]
[Collection("Serve")]
public sealed class PlayPageBrowserTests(ITestOutputHelper output)
{
    /// <summary>Digits asked for of each class in the accuracy check: 10 × 10 = 100.</summary>
    const int PerDigit = 10;

    static string PlayFolder()
    {
        string play = RepositoryPaths.Find("docs/play") ?? throw new DirectoryNotFoundException("docs/play");
        Skip.IfNot(File.Exists(Path.Combine(play, "ort", "ort-wasm.js")),
            "docs/play/ort is missing: the build fetches onnxruntime-web with npm (build/OnnxRuntimeWeb.targets), and npm was not there");
        return play;
    }

    /// <summary>
    /// A tab on <paramref name="url"/> once the page says it is ready; <paramref name="offline"/>: in a browser context with
    /// the network switched off (Playwright's offline emulation); <paramref name="requests"/> collects every URL it asks for.
    /// </summary>
    static async Task<IPage> OpenReady(IBrowser browser, string url, bool offline = false, List<string>? requests = null)
    {
        IBrowserContext context = await browser.NewContextAsync(new BrowserNewContextOptions { Offline = offline, ViewportSize = new ViewportSize { Width = 1000, Height = 900 } });
        IPage page = await context.NewPageAsync();
        if (requests is not null) page.Request += (_, request) => { lock (requests) requests.Add(request.Url); };
        await page.GotoAsync(url);
        await page.WaitForSelectorAsync("body[data-state='ready'], body[data-state='error']", new PageWaitForSelectorOptions { Timeout = 120_000 });
        Assert.True(await page.GetAttributeAsync("body", "data-state") == "ready", "the page did not load: " + await page.InnerTextAsync("#error"));
        return page;
    }

    /// <summary>Picks <paramref name="key"/> (a digit, or A for all) and presses Enter, as a visitor does; waits for the digits.</summary>
    static async Task Generate(IPage page, string key, int count, int seed)
    {
        await page.FillAsync("#count", count.ToString(CultureInfo.InvariantCulture));
        await page.FillAsync("#seed", seed.ToString(CultureInfo.InvariantCulture));
        await page.Locator("#seed").BlurAsync();                                            // keys go to the page, not the field
        await page.Keyboard.PressAsync(key);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForSelectorAsync("body[data-state='done'], body[data-state='error']", new PageWaitForSelectorOptions { Timeout = 300_000 });
        Assert.True(await page.GetAttributeAsync("body", "data-state") == "done", "generation failed: " + await page.InnerTextAsync("#error"));
    }

    /// <summary>(asked, read) of each digit, from the page's list of readings.</summary>
    static async Task<(int Asked, int Read)[]> Readings(IPage page) =>
        (await page.EvalOnSelectorAllAsync<int[][]>("#readings li", "ls => ls.map(l => [Number(l.dataset.asked), Number(l.dataset.read)])"))
        .Select(r => (r[0], r[1])).ToArray();

    [SkippableFact]
    public async Task Page_OpenedFromDisk_MakesTheDigitsAskedFor_AsLdmLiteDoes()
    {
        string play = PlayFolder();
        (IPlaywright playwright, IBrowser browser) = await DebianChromium.Launch();
        using var _ = playwright;
        await using var __ = browser;
        var load = Stopwatch.StartNew();
        var requests = new List<string>();
        IPage page = await OpenReady(browser, new Uri(Path.Combine(play, "index.html")).AbsoluteUri, offline: true, requests);
        output.WriteLine($"page load to ready (file://, offline): {load.Elapsed.TotalSeconds:F2} s");
        Assert.Contains("ONNX Runtime Web 1.30.0", await page.InnerTextAsync("#status"));

        int asked = 0, readAsAsked = 0;
        for (int digit = 0; digit <= 9; digit++)
        {
            await Generate(page, digit.ToString(CultureInfo.InvariantCulture), PerDigit, seed: 1000 + digit);
            var readings = await Readings(page);
            Assert.Equal(PerDigit, readings.Length);
            Assert.All(readings, r => Assert.Equal(digit, r.Asked));
            asked += readings.Length;
            readAsAsked += readings.Count(r => r.Read == r.Asked);
            output.WriteLine($"digit {digit}: {readings.Count(r => r.Read == r.Asked)}/{readings.Length} read as asked ({await page.GetAttributeAsync("body", "data-seconds")} s)");
        }
        output.WriteLine($"read as asked: {readAsAsked}/{asked}");
        Assert.True(readAsAsked >= 0.99 * asked, $"{readAsAsked} of {asked} digits read as asked (need ≥ 99 %)");

        await Generate(page, "a", 16, seed: 0);                                              // 0–9 then 0–5: the screenshot
        double seconds = double.Parse((await page.GetAttributeAsync("body", "data-seconds"))!, CultureInfo.InvariantCulture);
        output.WriteLine($"16 digits (iadb 50 steps, guidance 3 in [0.1, 0.5], frames drawn, classified): {seconds:F2} s");
        Assert.Matches(@"^16 digits from conditional\.onnx: iadb 50 steps, guidance 3 in \[0\.1, 0\.5\], seed 0: \d+\.\d\d s; \d+ of 16 read as asked\.$",
            await page.InnerTextAsync("#summary"));
        Assert.True(await page.EvalOnSelectorAsync<bool>("#canvas", "c => c.width > 400 && c.height > 400"), "the grid is drawn");
        byte[] screenshot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        if (Environment.GetEnvironmentVariable("LDM_PLAY_SCREENSHOT") is { Length: > 0 } path) AtomicFile.WriteAllBytes(path, screenshot);

        lock (requests)
        {
            Assert.Contains(requests, url => url.EndsWith("/models/conditional.onnx.js", StringComparison.Ordinal));
            Assert.All(requests, url => Assert.Matches("^(file|data|blob):", url));                   // nothing but the files beside it
        }

        // The same request through ldm-lite (ONNX Runtime in .NET, its Gaussian from the same seed): the same digits.
        double[] browserImages = await page.EvaluateAsync<double[]>("() => ldmPlay.lastResult.images");
        string onnx = RepositoryPaths.Find("models/onnx") ?? throw new DirectoryNotFoundException("models/onnx");
        using LiteGenerator lite = LiteGenerator.OpenFolder(onnx, "conditional", new RuntimeOptions { Threads = 1 });
        float[] liteImages = lite.Generate(new LiteRequest { Count = 16, Seed = 0, Labels = Enumerable.Range(0, 16).Select(i => i % 10).ToArray() });
        Assert.Equal(liteImages.Length, browserImages.Length);
        double largest = liteImages.Select((v, i) => Math.Abs(v - browserImages[i])).Max();
        output.WriteLine($"largest pixel difference, browser against ldm-lite: {largest:E2}");
        Assert.True(largest <= 1e-3, $"the browser's digits differ from ldm-lite's by {largest} for the same seed");
    }

    [SkippableFact]
    public async Task Page_MissingModelFile_ShowsTheErrorNotABlankCanvas()
    {
        string play = PlayFolder();
        (IPlaywright playwright, IBrowser browser) = await DebianChromium.Launch();
        using var _ = playwright;
        await using var __ = browser;
        using var dir = new TempDirectory();
        foreach (string file in Directory.GetFiles(play)) File.Copy(file, dir.File(Path.GetFileName(file)));
        Directory.CreateSymbolicLink(dir.File("ort"), Path.Combine(play, "ort"));
        Directory.CreateDirectory(dir.File("models"));
        foreach (string file in Directory.GetFiles(Path.Combine(play, "models")).Where(f => !f.EndsWith("latent-vae.decoder.onnx.js", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(dir.File("models"), Path.GetFileName(file)));

        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(dir.File("index.html")).AbsoluteUri);
        await page.WaitForSelectorAsync("body[data-state='error']", new PageWaitForSelectorOptions { Timeout = 120_000 });
        Assert.True(await page.IsVisibleAsync("#error"));
        Assert.Contains("models/latent-vae.decoder.onnx.js could not be loaded (missing?)", await page.InnerTextAsync("#error"));
        Assert.True(await page.IsDisabledAsync("#generate"), "nothing to generate with");
    }

    [SkippableFact]
    public async Task Page_ServedAtPlay_MakesDigits()
    {
        PlayFolder();
        (IPlaywright playwright, IBrowser browser) = await DebianChromium.Launch();
        using var _ = playwright;
        await using var __ = browser;
        using var dir = new TempDirectory();
        string docs = RepositoryPaths.Find("docs") ?? throw new DirectoryNotFoundException("docs");
        using ServeProcess server = ServeProcess.Start("--models", ServeModels.Create(dir), "--docs", docs);
        IPage page = await OpenReady(browser, new Uri(server.Url, "play").ToString());         // redirected to /play/
        Assert.EndsWith("/play/", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#steps", "5");
        await Generate(page, "3", 2, seed: 1);
        Assert.Equal(2, (await Readings(page)).Length);
        Assert.Contains("iadb 5 steps", await page.InnerTextAsync("#summary"));
    }
}
