using LatentDiffusion.Export.Distributed;
using LatentDiffusion.Tests.Data;

namespace LatentDiffusion.Tests.Cli;

/// <summary><c>ldm distributed</c> as a user meets it: a bundle from the real tool, and bad input as one line with the right exit code.</summary>
[Collection("Torch")]
public sealed class DistributedCommandTests
{
    static void AssertOneLine(string stderr)
    {
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ldm: error:"));
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Prepare_Classifier_WritesTheBundleWithTheTrainCommandsDefaultsAndPrintsTheCommand()
    {
        using var dir = new TempDirectory();
        string data = dir.File("mnist");
        SyntheticIdx.Write(data, SyntheticIdx.Dataset(30, 10));
        string bundle = dir.File("bundle");

        var r = LdmProcess.Run(["distributed", "prepare", "--kind", "classifier", "--data", data, "--epochs", "3", "--out", bundle]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(BundlePreparation.Command(bundle), r.Stdout.Replace("\n", ""));
        BundleSpec spec = BundleSpec.Read(bundle);
        Assert.Equal(BundleKind.Classifier, spec.Kind);
        Assert.Equal(new LatentDiffusion.Training.TrainingConfig() with { Epochs = 3 }, spec.Training);   // classifier train's defaults, --epochs given
    }

    [Theory]
    [InlineData("--kind", "classifier", "--kl-weight", "2")]
    [InlineData("--kind", "vae", "--widths", "8,16")]
    [InlineData("--kind", "diffusion", "--batch-size", "0")]
    [InlineData("--kind", "gan")]
    public void Prepare_OptionOfAnotherKindOrOutOfRange_IsAUsageError(params string[] args)
    {
        using var dir = new TempDirectory();
        var r = LdmProcess.Run(["distributed", "prepare", .. args, "--out", dir.File("bundle")]);

        Assert.Equal(2, r.ExitCode);
        Assert.False(Directory.Exists(dir.File("bundle")));
    }

    [Fact]
    public void Import_MissingBundle_OneLineNamingIt()
    {
        using var dir = new TempDirectory();
        var r = LdmProcess.Run(["distributed", "import", dir.File("nowhere"), "--out", dir.File("out")]);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains(dir.File("nowhere"), r.Stderr);
        AssertOneLine(r.Stderr);
    }
}
