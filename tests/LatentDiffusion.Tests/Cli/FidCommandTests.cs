using System.CommandLine;
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

    [Fact]
    public void Run_StatsThenFid_PrintsJsonWithProvenance()
    {
        using var dir = new TempDirectory();
        string a = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(150, seed: 1).Images);
        string b = FidCalculatorTests.WriteIdx(dir.Path, "b-idx3-ubyte", SyntheticData.Split(140, seed: 2).Images);
        string classifier = TestPaths.PyTorchFixture("classifier_state_dict.pt");
        string stats = dir.File("a.npz");

        var (code, stdout, _) = Run(["fid", "stats", a, "-o", stats, "--classifier", classifier, "--json"]);
        Assert.Equal(CliApp.Ok, code);
        Assert.True(File.Exists(stats));
        Assert.Equal(150, LastJson(stdout).GetProperty("n").GetInt64());

        (code, stdout, string stderr) = Run(["fid", stats, b, "--classifier", classifier, "--json"]);
        Assert.Equal(CliApp.Ok, code);
        JsonElement json = LastJson(stdout);
        Assert.True(json.GetProperty("fid").GetDouble() > 0);
        Assert.Equal(150, json.GetProperty("n_a").GetInt64());
        Assert.Equal(140, json.GetProperty("n_b").GetInt64());
        Assert.Equal(LatentDiffusion.IO.ModelWeights.Sha256(classifier)[..12], json.GetProperty("classifier").GetString());
        Assert.Equal("preact", json.GetProperty("features").GetString());
        Assert.True(json.GetProperty("seconds").GetDouble() >= 0);
        Assert.Equal(0, json.GetProperty("warnings").GetArrayLength());
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Run_MissingSourceOrClassifier_FailsWithOneLine()
    {
        using var dir = new TempDirectory();
        string a = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(20).Images);
        var (code, _, stderr) = Run(["fid", a, dir.File("absent")]);
        Assert.Equal(CliApp.Failure, code);
        Assert.Contains("no such file or directory", stderr);
        Assert.Single(stderr.Trim().Split('\n'));

        (code, _, stderr) = Run(["fid", a, a, "--classifier", dir.File("none.safetensors")]);
        Assert.Equal(CliApp.Failure, code);
        Assert.Contains("--classifier", stderr);
    }

    static (int Code, string Stdout, string Stderr) Run(string[] args)
    {
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = CliApp.Run(Root(), args);
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    static JsonElement LastJson(string stdout) =>
        JsonDocument.Parse(stdout.Trim().Split('\n').Last()).RootElement;
}
