using System.Text.Json.Nodes;
using LatentDiffusion.Data;
using LatentDiffusion.Export.Distributed;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Tests.Data;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Export.Distributed;

/// <summary>Preparing and importing bundles without Python: what a bundle holds, and every bad input as one line.</summary>
[Collection("Torch")]
public sealed class BundleTests
{
    static readonly TrainingConfig Tiny = new() { Epochs = 2, BatchSize = 8, Seed = 3, LogEvery = 1, CheckpointEvery = 1 };

    internal static MnistData Synthetic(TempDirectory dir, int train = 40, int test = 16)
    {
        string data = dir.File("mnist");
        SyntheticIdx.Write(data, SyntheticIdx.Dataset(train, test));
        return MnistDataset.Load(data);
    }

    [Fact]
    public void Classifier_Prepared_HoldsTheTrainersInitialWeightsTheImagesAsBytesAndTheCommand()
    {
        using var dir = new TempDirectory();
        MnistData mnist = Synthetic(dir);
        string bundle = dir.File("bundle");

        BundleSpec spec = BundlePreparation.Classifier(bundle, Tiny, mnist);

        Assert.Equal(new[] { "README.md", "bundle.json", "data.safetensors", "initial.safetensors", "ldm_modules.py", "ldm_train_ddp.py" },
            Directory.EnumerateFiles(bundle).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(spec, BundleSpec.Read(bundle) with { Model = spec.Model });
        Assert.Equal(10, spec.TotalSteps);                                                     // ⌈40 / 8⌉ · 2
        manual_seed(Tiny.Seed);
        using var expected = new Classifier();                                                 // as Trainer builds it
        using var loaded = new Classifier();
        ModelWeights.Load(loaded, Path.Combine(bundle, BundleSpec.InitialFileName));
        foreach (var ((name, e), (_, l)) in expected.state_dict().Zip(loaded.state_dict()))
            Assert.True(e.eq(l).all().item<bool>(), name);
        var (tensors, _) = Safetensors.Load(Path.Combine(bundle, BundleSpec.DataFileName));
        using Tensor inputs = mnist.Train.ToInputs();
        Assert.Equal(ScalarType.Byte, tensors["x_train"].dtype);
        Assert.True(tensors["x_train"].to_type(ScalarType.Float32).div(255.0).eq(inputs).all().item<bool>());   // bytes → the model's inputs exactly
        Assert.Contains(BundlePreparation.Command(bundle), File.ReadAllText(Path.Combine(bundle, BundleSpec.ReadmeFileName)));
        foreach (Tensor t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void Prepare_NonEmptyFolder_RefusesAndLeavesItAlone()
    {
        using var dir = new TempDirectory();
        MnistData mnist = Synthetic(dir);
        string bundle = dir.File("bundle");
        Directory.CreateDirectory(bundle);
        File.WriteAllText(Path.Combine(bundle, "mine.txt"), "keep");

        var e = Assert.Throws<IOException>(() => BundlePreparation.Classifier(bundle, Tiny, mnist));

        Assert.Contains("not empty", e.Message);
        Assert.Equal("keep", File.ReadAllText(Path.Combine(bundle, "mine.txt")));
    }

    [Fact]
    public void Read_MissingForeignOrOtherVersion_SaysWhichFileAndWhat()
    {
        using var dir = new TempDirectory();
        Assert.Contains("no such bundle folder", Assert.Throws<DataFormatException>(() => BundleSpec.Read(dir.File("nowhere"))).Message);
        Assert.Contains("not found", Assert.Throws<DataFormatException>(() => BundleSpec.Read(dir.Path)).Message);
        File.WriteAllText(dir.File(BundleSpec.FileName), "{\"format\": \"something-else\", \"version\": 1}");
        Assert.Contains("not a distributed bundle", Assert.Throws<DataFormatException>(() => BundleSpec.Read(dir.Path)).Message);
        File.WriteAllText(dir.File(BundleSpec.FileName), "{\"format\": \"ldm-distributed-bundle\", \"version\": 99}");
        var e = Assert.Throws<DataFormatException>(() => BundleSpec.Read(dir.Path));
        Assert.Contains("bundle version 99", e.Message);
        Assert.Equal(dir.File(BundleSpec.FileName), e.FilePath);
        File.WriteAllText(dir.File(BundleSpec.FileName), "{\"format\": \"ldm-distributed-bundle\", \"version\": 1, \"id\": ");
        Assert.Contains("unreadable", Assert.Throws<DataFormatException>(() => BundleSpec.Read(dir.Path)).Message);
    }

    [Fact]
    public void Import_Untrained_SaysToTrainFirst_AndUnfinished_NeedsPartial()
    {
        using var dir = new TempDirectory();
        MnistData mnist = Synthetic(dir);
        string bundle = dir.File("bundle");
        BundleSpec spec = BundlePreparation.Classifier(bundle, Tiny, mnist);

        var untrained = Assert.Throws<DataFormatException>(() => BundleImport.Import(bundle, dir.File("out")));
        Assert.Contains("train the bundle first", untrained.Message);

        // A checkpoint's weights as the trainer writes them (metadata "step"), with no finished.json.
        string run = Path.Combine(bundle, BundleSpec.RunFolder);
        using (var model = new Classifier())
            ModelWeights.Save(model, Path.Combine(run, BundleImport.LastFileName), new Dictionary<string, string> { ["step"] = "4" });
        var unfinished = Assert.Throws<DataFormatException>(() => BundleImport.Import(bundle, dir.File("out")));
        Assert.Contains("not finished", unfinished.Message);
        Assert.Contains("step 4 of 10", unfinished.Message);
        Assert.Contains("--partial", unfinished.Message);
        Assert.False(Directory.Exists(dir.File("out")));

        ImportResult partial = BundleImport.Import(bundle, dir.File("out"), partial: true);
        Assert.True(partial.Partial);
        Assert.Equal(4, partial.Steps);
        ModelFile.LoadClassifier(partial.ModelPath).Dispose();
        Assert.True(File.Exists(dir.File("out/config.json")));
    }

    [Fact]
    public void Import_WeightsOfAnotherArchitecture_NamesTheFileAndTheTensors()
    {
        using var dir = new TempDirectory();
        MnistData mnist = Synthetic(dir);
        string bundle = dir.File("bundle");
        BundlePreparation.Classifier(bundle, Tiny, mnist);
        string run = Path.Combine(bundle, BundleSpec.RunFolder);
        using (var vae = new Vae())
            ModelWeights.Save(vae, Path.Combine(run, BundleImport.LastFileName), new Dictionary<string, string> { ["step"] = "2" });

        var e = Assert.Throws<DataFormatException>(() => BundleImport.Import(bundle, dir.File("out"), partial: true));

        Assert.Equal(Path.Combine(run, BundleImport.LastFileName), e.FilePath);
        Assert.Contains("do not fit the Classifier", e.Message);
    }

    [Fact]
    public void Import_FinishedOfAnotherBundle_IsRefused()
    {
        using var dir = new TempDirectory();
        MnistData mnist = Synthetic(dir);
        string bundle = dir.File("bundle");
        BundlePreparation.Classifier(bundle, Tiny, mnist);
        string run = Path.Combine(bundle, BundleSpec.RunFolder);
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, BundleImport.FinishedFileName), "{\"bundle_id\": \"0123\", \"steps\": 10}");

        var e = Assert.Throws<DataFormatException>(() => BundleImport.Import(bundle, dir.File("out")));

        Assert.Contains("another bundle", e.Message);
    }

    [Fact]
    public void Vae_Prepared_RecordsItsSettingsForBothSides()
    {
        using var dir = new TempDirectory();
        MnistData mnist = Synthetic(dir);
        var model = new VaeConfig { Sigma = SigmaParameterization.LogVariance, HeadChannels = 8, LatentChannels = 2, KlWeight = 0.01 };

        BundleSpec spec = BundlePreparation.Vae(dir.File("bundle"), TrainingConfig.Part2 with { Epochs = 1 }, model, mnist);

        Assert.Equal(model, System.Text.Json.JsonSerializer.Deserialize<VaeConfig>(spec.Settings!));
        Assert.Equal("LogVariance", spec.Model!["Sigma"]!.GetValue<string>());
        Assert.Equal(8, ((JsonObject)spec.Model!)["HeadChannels"]!.GetValue<int>());
    }
}
