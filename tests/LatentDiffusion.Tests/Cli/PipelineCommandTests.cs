using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Experiments;
using LatentDiffusion.Tests.Data;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// <c>ldm pipeline</c> through the real executable: data that cannot be used and a folder of another dataset are one
/// line before any training, with nothing written; so is a resume that changes --no-decoder-tuning; a budget that cannot
/// work is a usage error; Ctrl-C inside a stage stops cleanly and the same command finishes the pipeline. (The stages themselves: <see cref="Experiments.PipelineTests"/>.)
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

    /// <summary>A folder recorded with decoder tuning resumed without it, or the reverse: one line saying which option resumes it, nothing trained.</summary>
    [Theory]
    [InlineData(true, new string[0], "Give --no-decoder-tuning to resume it")]
    [InlineData(false, new[] { "--no-decoder-tuning" }, "Leave out --no-decoder-tuning to resume it")]
    public void AnotherChoiceOfDecoderTuning_IsOneLineNamingTheOption(bool recordedWithout, string[] extra, string says)
    {
        string data = Folder("pets");
        string outDir = dir.File("run");
        Directory.CreateDirectory(outDir);
        ImageDataset loaded = Datasets.Load(data);
        string[] stages = recordedWithout
            ? [ModelSet.Classifier, ModelSet.LatentVae, ModelSet.Conditional]
            : [ModelSet.Classifier, ModelSet.LatentVae, Pipeline.PerceptualClassifierStage, Pipeline.DecoderTuningStage, ModelSet.Conditional];
        new PipelineRecord(loaded.Info, PipelinePlan.Fit(null, 0, stages.Select(n => (n, 10, 1.0)).ToList())) { DecoderTuning = !recordedWithout }.Write(outDir);

        LdmProcess.Result r = LdmProcess.Run(["pipeline", "--data", data, "--out", outDir, .. extra]);
        LdmProcess.AssertOneLineError(r, 1, says);
        Assert.False(Directory.Exists(Path.Combine(outDir, Pipeline.TrainFolder)));
    }

    /// <summary>The shipped recipes for one epoch each (a budget below that) on 72 training images: SIGINT in the VAE's first epoch, then the same command.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Sigint_InsideAStage_StopsAtACheckpoint_AndTheSameCommandFinishes()
    {
        string data = dir.File("many");
        foreach (string c in new[] { "cat", "dog" })
            for (int i = 0; i < 40; i++)
                TestPngs.Write(Path.Combine(data, c, $"{i:D2}.png"), 8, 8, (x, y) => ((byte)(x * 30 + i), (byte)(c == "cat" ? 200 : 20), (byte)(y * 30)));
        string outDir = dir.File("run");
        string[] args = ["pipeline", "--data", data, "--out", outDir, "--budget-minutes", "0.001", "--report-samples", "20", "--json"];
        int code;
        string stderr;
        // 1 s a batch: the signal must land while the VAE stage is still running, however late a loaded machine lets the test read the line.
        using (var child = new StopSignalTests.Child(args, new Dictionary<string, string> { ["LDM_TEST_SLOW_BATCH_MS"] = "1000" }))
        {
            child.WaitForLine("test hook: batch 2 of epoch 1");   // the VAE is the first stage with a second batch (72 images: 1 of 256, 3 of 32)
            LdmProcess.Signal(child.Process, LdmProcess.SIGINT);
            code = child.Exit();
            stderr = child.Stderr;
        }
        Assert.True(code == 130, $"exit {code}: {stderr}");
        Assert.Contains($"resume with: ldm pipeline --data {data}", stderr);
        Assert.True(File.Exists(Path.Combine(outDir, "classifier.safetensors")), stderr);
        Assert.False(File.Exists(Path.Combine(outDir, "latent-vae.safetensors")));
        Assert.True(File.Exists(Path.Combine(outDir, Pipeline.TrainFolder, "latent-vae", "checkpoint.ckpt")));

        LdmProcess.Result r = LdmProcess.Run(args, timeoutSeconds: 300);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("[1/6] classifier: the classifier run", r.Stderr);
        using JsonDocument json = JsonDocument.Parse(r.Stdout.TrimEnd().Split('\n')[^1]);
        Assert.Equal([true, false, false, false, false], json.RootElement.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("skipped").GetBoolean()));
        // latent_vae is the tuned decoder in the model set; latent_vae_base the trained VAE, left in its run.
        Assert.Equal(Path.Combine(outDir, "latent-vae.safetensors"), json.RootElement.GetProperty("latent_vae").GetString());
        Assert.Equal(Path.Combine(outDir, Pipeline.TrainFolder, "latent-vae", "model.safetensors"), json.RootElement.GetProperty("latent_vae_base").GetString());
        Assert.True(File.Exists(json.RootElement.GetProperty("conditional").GetString()));
        Assert.True(File.Exists(Path.Combine(json.RootElement.GetProperty("report").GetString()!, "index.html")));
        Assert.Equal(5, json.RootElement.GetProperty("fid").GetArrayLength());
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "conditional.config.json")));
        Assert.Equal(["cat", "dog"], config.RootElement.GetProperty("Data").GetProperty("ClassNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, config.RootElement.GetProperty("Model").GetProperty("UNet").GetProperty("Classes").GetInt32());
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
