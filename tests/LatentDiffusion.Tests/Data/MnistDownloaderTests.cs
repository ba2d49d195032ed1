using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using Xunit;
using Xunit.Abstractions;

namespace LatentDiffusion.Tests.Data;

/// <summary>
/// Downloads against <see cref="LocalHttpServer"/> on 127.0.0.1: mirror order, truncated and broken bodies, stalls,
/// checksum mismatches, total failure. After every failure the directory must hold no partial or unverified file.
/// Most tests serve a tiny synthetic dataset whose checksums are injected through <see cref="DownloadOptions.Dataset"/>;
/// one serves the real MNIST bytes and checks them against the built-in checksums.
/// </summary>
[Trait("Category", "LocalServer")]
public sealed class MnistDownloaderTests(ITestOutputHelper output) : IDisposable
{
    static readonly string[] GzNames = MnistDataset.FileNames.Select(n => n + ".gz").ToArray();

    readonly TempDirectory dir = new();
    readonly Dictionary<string, byte[]> gz = SyntheticIdx.Dataset().ToDictionary(kv => kv.Key + ".gz", kv => SyntheticIdx.Gzip(kv.Value));
    readonly List<string> notices = [];

    public void Dispose() => dir.Dispose();

    /// <summary>
    /// Options for the synthetic dataset: its checksums, the given mirrors, short timeouts. 5 s leaves a loaded
    /// 2-core machine room to answer; the stall tests cut it to 1 s.
    /// </summary>
    DownloadOptions Options(params Uri[] mirrors) => new()
    {
        Mirrors = mirrors,
        Timeout = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        Dataset = SyntheticIdx.Known("synthetic", gz.ToDictionary(kv => kv.Key[..^3], kv => kv.Value)),
    };

    [Trait("Category", "Slow")]
    [Fact]
    public void LoadOrDownload_FirstMirror404_GetsRealMnistFromTheSecond()
    {
        string real = SyntheticIdx.RealMnistDirectory;
        var bytes = GzNames.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(real, n)));
        using var server = new LocalHttpServer(bytes);
        // The built-in MNIST checksums, only the mirrors moved to loopback.
        var options = new DownloadOptions { Mirrors = [server.Mirror("notfound"), server.Mirror("good")] };
        var stopwatch = Stopwatch.StartNew();

        MnistData data = MnistDataset.LoadOrDownload(dir.Path, options, notices.Add);

        output.WriteLine($"downloaded, verified and loaded MNIST from 127.0.0.1 in {stopwatch.Elapsed.TotalSeconds:0.00} s");
        Assert.Equal("MNIST", data.Name);
        Assert.Equal(60000, data.Train.Count);
        Assert.Equal(GzNames.Order(StringComparer.Ordinal), dir.FileNames());
        foreach (string name in GzNames)
            Assert.Equal(bytes[name], File.ReadAllBytes(dir.File(name)));
        var expected = GzNames.SelectMany(n => new[] { $"/notfound/{n}", $"/good/{n}" });
        Assert.Equal(expected, server.Requests);
        Assert.Contains(notices, n => n.Contains("HTTP 404", StringComparison.Ordinal));
    }

    [Fact]
    public void DownloadMissing_BodyCutShort_DetectsMismatchAndUsesNextMirror()
    {
        using var server = new LocalHttpServer(gz);

        MnistDownloader.DownloadMissing(dir.Path, Options(server.Mirror("half-chunked"), server.Mirror("good")), notices.Add);

        AssertHoldsServedFiles();
        Assert.Equal(4, notices.Count(n => n.Contains("checksum mismatch", StringComparison.Ordinal)));
    }

    [Fact]
    public void DownloadMissing_ConnectionDroppedMidBody_UsesNextMirror()
    {
        using var server = new LocalHttpServer(gz);

        var good = new Uri(server.Mirror("good").AbsoluteUri.TrimEnd('/'));   // no final slash: still a directory
        MnistDownloader.DownloadMissing(dir.Path, Options(server.Mirror("broken"), good), notices.Add);

        AssertHoldsServedFiles();
    }

    [Fact]
    public void DownloadMissing_WrongContentOnFirstMirror_UsesNextMirror()
    {
        var wrong = SyntheticIdx.Dataset(seed: 99).ToDictionary(kv => kv.Key + ".gz", kv => SyntheticIdx.Gzip(kv.Value));
        using var server = new LocalHttpServer(gz, alternative: wrong);

        MnistDownloader.DownloadMissing(dir.Path, Options(server.Mirror("alt"), server.Mirror("good")), notices.Add);

        AssertHoldsServedFiles();
        Assert.Equal(4, notices.Count(n => n.Contains("checksum mismatch", StringComparison.Ordinal)));
    }

    [Fact]
    public void DownloadMissing_RecompressedCopy_AcceptedByContentSha256WithNotice()
    {
        var recompressed = gz.ToDictionary(kv => kv.Key, kv => SyntheticIdx.Gzip(SyntheticIdx.Gunzip(kv.Value), CompressionLevel.NoCompression));
        using var server = new LocalHttpServer(gz, alternative: recompressed);

        MnistDownloader.DownloadMissing(dir.Path, Options(server.Mirror("alt")), notices.Add);

        foreach (string name in GzNames) Assert.Equal(recompressed[name], File.ReadAllBytes(dir.File(name)));
        Assert.Equal(4, notices.Count(n => n.Contains("not the published .gz", StringComparison.Ordinal)));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void DownloadMissing_StalledMirror_TimesOutOnceThenUsesNextMirror()
    {
        using var server = new LocalHttpServer(gz);
        var stopwatch = Stopwatch.StartNew();

        var options = Options(server.Mirror("stall"), server.Mirror("good")) with { Timeout = TimeSpan.FromSeconds(1) };
        MnistDownloader.DownloadMissing(dir.Path, options, notices.Add);

        output.WriteLine($"stall + fallback took {stopwatch.Elapsed.TotalSeconds:0.00} s");
        AssertHoldsServedFiles();
        // A stalled mirror is not asked again, so four files cost one timeout, not four.
        Assert.Single(server.Requests, r => r.StartsWith("/stall/", StringComparison.Ordinal));
        Assert.InRange(stopwatch.Elapsed.TotalSeconds, 0.9, 5);
        Assert.Contains(notices, n => n.Contains("timed out: no data for 1 s", StringComparison.Ordinal));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void DownloadMissing_StallMidBody_FailsWithTimeoutAndLeavesNothing()
    {
        using var server = new LocalHttpServer(gz);
        var stopwatch = Stopwatch.StartNew();

        DataFormatException e = AssertFails(Options(server.Mirror("stall-body")) with { Timeout = TimeSpan.FromSeconds(1) });

        Assert.InRange(stopwatch.Elapsed.TotalSeconds, 0.9, 5);
        // The server sends 1000 bytes, then nothing. Under a loaded test run the 1-s timeout can fire before all of them
        // (or any) arrive, so the count is bounded, not exact; what matters is the stall is caught and named.
        var match = System.Text.RegularExpressions.Regex.Match(e.Message, @"timed out: no data for 1 s \(after (\d+) bytes\)");
        Assert.True(match.Success, e.Message);
        Assert.InRange(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1000);
    }

    [Fact]
    public void DownloadMissing_ServerAnnouncesTooLargeBody_RefusesAndUsesNextMirror()
    {
        using var server = new LocalHttpServer(gz);

        MnistDownloader.DownloadMissing(dir.Path, Options(server.Mirror("huge"), server.Mirror("good")), notices.Add);

        AssertHoldsServedFiles();
        Assert.Contains(notices, n => n.Contains("more than the 67108864-byte limit", StringComparison.Ordinal));
    }

    [Fact]
    public void DownloadMissing_AllMirrorsFail_OneLineNamingTheFourFilesAndDataOption()
    {
        using var server = new LocalHttpServer(gz);
        var refused = new Uri($"http://127.0.0.1:{LocalHttpServer.FreePort()}/mnist/");

        DataFormatException e = AssertFails(Options(server.Mirror("notfound"), server.Mirror("half-chunked"), refused));

        output.WriteLine(e.Message);
        Assert.Contains("HTTP 404", e.Message);
        Assert.Contains("checksum mismatch", e.Message);
        Assert.Contains("request failed", e.Message);
    }

    [Fact]
    public void DownloadMissing_NoNetwork_FailsWithinSeconds()
    {
        var refused = new Uri($"http://127.0.0.1:{LocalHttpServer.FreePort()}/");
        var unresolvable = new Uri("http://mnist-mirror.invalid/");   // .invalid never resolves (RFC 2606)
        var stopwatch = Stopwatch.StartNew();

        DataFormatException e = AssertFails(Options(refused, unresolvable));

        output.WriteLine($"failed in {stopwatch.Elapsed.TotalSeconds:0.00} s: {e.Message}");
        Assert.InRange(stopwatch.Elapsed.TotalSeconds, 0, 5);
    }

    [Fact]
    public void DownloadMissing_LaterFileFails_KeepsOnlyTheVerifiedFiles()
    {
        var partial = new Dictionary<string, byte[]> { [GzNames[0]] = gz[GzNames[0]] };
        using var server = new LocalHttpServer(partial);

        var e = Assert.Throws<DataFormatException>(() =>
            MnistDownloader.DownloadMissing(dir.Path, Options(server.Mirror("good")), notices.Add));

        Assert.Equal([GzNames[0]], dir.FileNames());
        Assert.Contains($"cannot download {GzNames[1]}, {GzNames[2]}, {GzNames[3]} (", e.Message);
    }

    [Fact]
    public void DownloadMissing_SomeFilesPresent_FetchesOnlyTheOthers()
    {
        File.WriteAllBytes(dir.File(MnistDataset.TrainImages), SyntheticIdx.Gunzip(gz[GzNames[0]]));   // raw counts as present
        File.WriteAllBytes(dir.File(GzNames[1]), gz[GzNames[1]]);
        using var server = new LocalHttpServer(gz);

        var written = MnistDownloader.DownloadMissing(dir.Path, Options(server.Mirror("good")));

        Assert.Equal([dir.File(GzNames[2]), dir.File(GzNames[3])], written);
        Assert.Equal([$"/good/{GzNames[2]}", $"/good/{GzNames[3]}"], server.Requests);
    }

    /// <summary>The download must fail with one line naming the four files and --data, leaving the directory empty.</summary>
    DataFormatException AssertFails(DownloadOptions options)
    {
        var e = Assert.Throws<DataFormatException>(() => MnistDataset.LoadOrDownload(dir.Path, options, notices.Add));
        Assert.Equal(dir.Path, e.FilePath);
        Assert.DoesNotContain('\n', e.Message);
        foreach (string name in GzNames) Assert.Contains(name, e.Message);
        Assert.Contains("--data", e.Message);
        Assert.Empty(dir.FileNames());   // no *.tmp, no unverified .gz
        return e;
    }

    void AssertHoldsServedFiles()
    {
        Assert.Equal(GzNames.Order(StringComparer.Ordinal), dir.FileNames());
        foreach (string name in GzNames)
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(gz[name])), Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(dir.File(name)))));
    }
}
