using LatentDiffusion.Data;
using LatentDiffusion.Experiments;
using LatentDiffusion.Tests.Data;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// <c>ldm pipeline</c> through the real executable: data that cannot be used and a folder of another dataset are one
/// line before any training, with nothing written; a budget that cannot work is a usage error. (The stages themselves:
/// <see cref="Experiments.PipelineTests"/>.)
/// </summary>
[Collection("Torch")]
public sealed class PipelineCommandTests : IDisposable
{
    readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>Two classes of two 8x8 images each, plus what <paramref name="extra"/> adds.</summary>
    string Folder(string name, Action<string>? extra = null)
    {
        string root = dir.File(name);
        foreach (string c in new[] { "cat", "dog" })
            for (int i = 0; i < 2; i++)
                TestPngs.Write(Path.Combine(root, c, $"{i}.png"), 8, 8, (x, y) => ((byte)(x * 30), (byte)(c == "cat" ? 200 : 20), (byte)(i * 90)));
        extra?.Invoke(root);
        return root;
    }

    [Theory]
    [InlineData("empty", "is empty")]
    [InlineData("one-class", "at least two classes")]
    [InlineData("empty-class", "bird")]
    [InlineData("corrupt", "broken.png")]
    public void BadData_IsOneLine_AndWritesNothing(string kind, string says)
    {
        string data = kind switch
        {
            "empty" => Directory.CreateDirectory(dir.File("empty")).FullName,
            "one-class" => Folder("one", root => Directory.Delete(Path.Combine(root, "dog"), recursive: true)),
            "empty-class" => Folder("empty-class", root => Directory.CreateDirectory(Path.Combine(root, "bird"))),
            _ => Folder("corrupt", root => File.WriteAllBytes(Path.Combine(root, "dog", "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3])),
        };
        string outDir = dir.File("run");
        LdmProcess.Result r = LdmProcess.Run(["pipeline", "--data", data, "--out", outDir]);
        LdmProcess.AssertOneLineError(r, 1, says);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void AnotherDatasetIntoTheSameOut_IsOneLineNamingBoth()
    {
        string outDir = dir.File("run");
        Directory.CreateDirectory(outDir);
        var earlier = new DatasetInfo("pets", "/data/pets", 3, 32, ["cat", "dog"], new string('a', 64), "the train/ and test/ folders");
        new PipelineRecord(earlier, PipelinePlan.Fit(null, 0, [("classifier", 100, 1.0), ("latent-vae", 20, 1.0), ("conditional", 100, 1.0)])).Write(outDir);
        string before = File.ReadAllText(Path.Combine(outDir, PipelineRecord.FileName));

        LdmProcess.Result r = LdmProcess.Run(["pipeline", "--data", Folder("pets2"), "--out", outDir]);
        LdmProcess.AssertOneLineError(r, 1, "pets (3x32x32, 2 classes, sha256 aaaaaaaaaaaa) from /data/pets");
        Assert.Contains("pets2 (", r.Stderr);
        Assert.Equal(before, File.ReadAllText(Path.Combine(outDir, PipelineRecord.FileName)));
        Assert.False(Directory.Exists(Path.Combine(outDir, Pipeline.TrainFolder)));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("nan")]
    public void BudgetThatCannotWork_IsAUsageError(string minutes)
    {
        LdmProcess.Result r = LdmProcess.Run(["pipeline", "--data", Folder("ok"), "--out", dir.File("run"), "--budget-minutes", minutes]);
        LdmProcess.AssertOneLineError(r, 2, "--budget-minutes");
        Assert.False(Directory.Exists(dir.File("run")));
    }
}
