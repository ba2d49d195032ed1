using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using LatentDiffusion.Cli;
using LatentDiffusion.Cli.Commands;
using LatentDiffusion.Tests.Metrics;

namespace LatentDiffusion.Tests.Cli;

[Collection("Torch")]
public sealed class FidCommandTests
{
    static RootCommand Root() => new("test") { FidCommand.Create() };

    [Fact]
    public void Parse_TwoSources_RunsFidWithAAndB()
    {
        ParseResult parse = Root().Parse(["fid", "a.npz", "b-idx3-ubyte", "--features", "flatten", "--batch-size", "7"]);
        Assert.Empty(parse.Errors);
        Assert.Equal("fid", parse.CommandResult.Command.Name);
        Assert.Equal("a.npz", parse.GetValue<string?>("A"));
        Assert.Equal("b-idx3-ubyte", parse.GetValue<string?>("B"));
        Assert.Equal("flatten", parse.GetValue<string>("--features"));
        Assert.Equal(7, parse.GetValue<int>("--batch-size"));
    }

    [Fact]
    public void Parse_Stats_RunsTheSubcommand()
    {
        ParseResult parse = Root().Parse(["fid", "stats", "x", "-o", "y.npz"]);
        Assert.Empty(parse.Errors);
        Assert.Equal("stats", parse.CommandResult.Command.Name);
        Assert.Equal("x", parse.GetValue<string>("SOURCE"));
        Assert.Equal("y.npz", parse.GetValue<string>("--output"));
    }

    [Fact]
    public void Parse_Baselines_RunsTheSubcommand()
    {
        ParseResult parse = Root().Parse(["fid", "baselines", "--seed", "3", "--json"]);
        Assert.Empty(parse.Errors);
        Assert.Equal("baselines", parse.CommandResult.Command.Name);
        Assert.Equal(3L, parse.GetValue<long>("--seed"));
    }

    [Theory]
    [InlineData("fid", "a", "b", "--features", "logits")]
    [InlineData("fid", "stats", "x")]
    [InlineData("fid", "a", "b", "c")]
    [InlineData("fid", "a")]
    [InlineData("fid")]
    public void Parse_BadUsage_IsAnError(params string[] args) => Assert.NotEmpty(Root().Parse(args).Errors);

    /// <summary>
    /// Through the real executable, so stdout and stderr are the process's own streams (CliApp.Out and CliApp.Err bind
    /// the console at type load, where an in-process Console.SetError never reaches them).
    /// </summary>
    [Trait("Category", "Slow")]
    [Fact]
    public void Run_StatsThenFid_PrintsJsonWithProvenance()
    {
        using var dir = new TempDirectory();
        string a = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(150, seed: 1).Images);
        string b = FidCalculatorTests.WriteIdx(dir.Path, "b-idx3-ubyte", SyntheticData.Split(140, seed: 2).Images);
        string classifier = TestPaths.PyTorchFixture("classifier_state_dict.pt");
        string stats = dir.File("a.npz");

        var (r, wall) = Timed(["fid", "stats", a, "-o", stats, "--classifier", classifier, "--json"]);
        Assert.True(r.ExitCode == CliApp.Ok, r.Stderr);
        Assert.True(File.Exists(stats));
        JsonElement json = LastJson(r.Stdout);
        Assert.Equal(150, json.GetProperty("n").GetInt64());
        AssertSecondsWithin(json, wall);
        Assert.Equal("", r.Stderr);

        (r, wall) = Timed(["fid", stats, b, "--classifier", classifier, "--json"]);
        Assert.True(r.ExitCode == CliApp.Ok, r.Stderr);
        json = LastJson(r.Stdout);
        double fid = json.GetProperty("fid").GetDouble();
        Assert.True(fid > 0);
        Assert.Contains($"FID {fid:F4}", r.Stdout);                                   // the human line says the same
        Assert.Equal(150, json.GetProperty("n_a").GetInt64());
        Assert.Equal(140, json.GetProperty("n_b").GetInt64());
        Assert.Equal(LatentDiffusion.IO.ModelWeights.Sha256(classifier)[..12], json.GetProperty("classifier").GetString());
        Assert.Equal("preact", json.GetProperty("features").GetString());
        AssertSecondsWithin(json, wall);
        Assert.Equal(0, json.GetProperty("warnings").GetArrayLength());
        Assert.Equal("", r.Stderr);                                                   // 150 and 140 > 128: no warning, no notice
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Run_MissingSourceOrClassifier_FailsWithOneLine()
    {
        using var dir = new TempDirectory();
        string a = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(20).Images);
        var r = LdmProcess.Run(["fid", a, dir.File("absent")]);
        Assert.Equal(CliApp.Failure, r.ExitCode);
        Assert.Contains("no such file or directory", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));

        r = LdmProcess.Run(["fid", a, a, "--classifier", dir.File("none.safetensors")]);
        Assert.Equal(CliApp.Failure, r.ExitCode);
        Assert.Contains("--classifier", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Parse_All_TakesHeldOutAndPairs()
    {
        ParseResult parse = Root().Parse(["fid", "a", "b", "--all", "--held-out", "t", "--pairs", "p.png", "--json"]);
        Assert.Empty(parse.Errors);
        Assert.True(parse.GetValue<bool>("--all"));
        Assert.Equal("t", parse.GetValue<string?>("--held-out"));
        Assert.Equal("p.png", parse.GetValue<string?>("--pairs"));
    }

    /// <summary><c>--all</c>: every metric in one run, the --json keys the issue names, the closest-pairs figure written.</summary>
    [Trait("Category", "Slow")]
    [Fact]
    public void Run_All_PrintsEveryMetricAndWritesThePairs()
    {
        using var dir = new TempDirectory();
        string a = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(150, seed: 1).Images);
        string b = FidCalculatorTests.WriteIdx(dir.Path, "b-idx3-ubyte", SyntheticData.Split(140, seed: 2).Images);
        string test = FidCalculatorTests.WriteIdx(dir.Path, "t-idx3-ubyte", SyntheticData.Split(130, seed: 3).Images);
        string classifier = TestPaths.PyTorchFixture("classifier_state_dict.pt");
        string pairs = dir.File("pairs.png");

        var (r, wall) = Timed(["fid", a, b, "--all", "--held-out", test, "--pairs", pairs, "--classifier", classifier, "--json"]);
        Assert.True(r.ExitCode == CliApp.Ok, r.Stderr);
        JsonElement json = LastJson(r.Stdout);
        foreach (string key in new[] { "precision", "recall", "density", "coverage", "memorised_fraction" })
            Assert.InRange(json.GetProperty(key).GetDouble(), 0.0, key == "density" ? 10.0 : 1.0);
        // The same FID as plain `ldm fid A B`: one feature pass serves every metric.
        var (plain, _) = Timed(["fid", a, b, "--classifier", classifier, "--json"]);
        Assert.Equal(LastJson(plain.Stdout).GetProperty("fid").GetDouble(), json.GetProperty("fid").GetDouble());
        Assert.Equal(150, json.GetProperty("n_a").GetInt64());
        Assert.Equal(140, json.GetProperty("n_b").GetInt64());
        Assert.Equal(16, json.GetProperty("closest").GetArrayLength());
        AssertSecondsWithin(json, wall);
        Assert.True(new FileInfo(pairs).Length > 1000);
        Assert.Contains("memorised fraction", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Run_AllBadInput_FailsWithOneLine()
    {
        using var dir = new TempDirectory();
        string a = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(20).Images);
        string stats = dir.File("s.npz");
        new LatentDiffusion.Metrics.FeatureStatistics([0.0, 0.0], [1.0, 0.0, 0.0, 1.0]).Save(stats);
        string classifier = TestPaths.PyTorchFixture("classifier_state_dict.pt");

        var r = LdmProcess.Run(["fid", a, stats, "--all", "--held-out", a, "--classifier", classifier]);
        Assert.Equal(CliApp.Failure, r.ExitCode);
        Assert.Contains("these metrics need the images", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));

        string few = FidCalculatorTests.WriteIdx(dir.Path, "few-idx3-ubyte", SyntheticData.Split(4).Images);
        r = LdmProcess.Run(["fid", a, few, "--all", "--held-out", a, "--classifier", classifier]);
        Assert.Equal(CliApp.Failure, r.ExitCode);
        Assert.Contains("few-idx3-ubyte: 4 images: precision, density and coverage with k = 5 need at least k + 1 = 6", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));

        r = LdmProcess.Run(["fid", a, a, "--pairs", dir.File("p.png")]);
        Assert.Equal(CliApp.Usage, r.ExitCode);
        Assert.Contains("--held-out and --pairs belong to --all", r.Stderr);

        r = LdmProcess.Run(["fid", a, a, "--all", "--pairs", dir.File("p.jpg"), "--held-out", a, "--classifier", classifier]);
        Assert.Equal(CliApp.Usage, r.ExitCode);
        Assert.Contains("must end in .png", r.Stderr);
    }

    static (LdmProcess.Result Result, double WallSeconds) Timed(string[] args)
    {
        var watch = Stopwatch.StartNew();
        LdmProcess.Result result = LdmProcess.Run(args);
        return (result, watch.Elapsed.TotalSeconds);
    }

    /// <summary>The reported time is real work (features of 140+ images take milliseconds) and fits in the process's life.</summary>
    static void AssertSecondsWithin(JsonElement json, double wallSeconds)
    {
        double seconds = json.GetProperty("seconds").GetDouble();
        Assert.True(seconds > 0 && seconds < wallSeconds, $"seconds {seconds} outside (0, {wallSeconds:F2}) of the process's wall time");
    }

    static JsonElement LastJson(string stdout) =>
        JsonDocument.Parse(stdout.Trim().Split('\n').Last()).RootElement;
}
