using LatentDiffusion.Data;
using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// <c>ldm vae tune-decoder</c> through the real executable: a perceptual classifier trained on another dataset than
/// <c>--data</c> is accepted (its features still define the perceptual term) with one note on stderr naming both; a
/// classifier of the same data tunes without it.
/// </summary>
[Collection("Torch")]
public sealed class VaeTuneDecoderCommandTests : IDisposable
{
    static readonly TrainingConfig OneEpoch = new() { Epochs = 1, BatchSize = 16, LogEvery = 1, CheckpointEvery = 1 };

    readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void ClassifierOfAnotherDataset_TunesWithOneNoteNamingBoth()
    {
        ColoredMnist.Write(SyntheticData.Dataset(20, 10), dir.File("digits"), seed: 0);
        ColoredMnist.Write(SyntheticData.Dataset(20, 10), dir.File("others"), seed: 1);   // the same shape, other content
        ImageDataset digits = Datasets.Load(dir.File("digits")), others = Datasets.Load(dir.File("others"));
        VaeConfig vae = new VaeConfig { Features = [1, 4, 4, 8], LatentChannels = 2, HeadChannels = 8 }.ForResolution(digits.Channels, digits.Resolution);
        new Trainer<Vae>(OneEpoch).Train(new VaeTask(digits.Train, digits.Test, vae, digits.Info), dir.File("vae")).Model.Dispose();
        ClassifierTask.Train(OneEpoch, others, dir.File("foreign")).Model.Dispose();
        ClassifierTask.Train(OneEpoch with { Seed = 1 }, digits, dir.File("own")).Model.Dispose();

        string[] Tune(string classifier, string run) =>
            ["vae", "tune-decoder", "--vae", dir.File("vae/model.safetensors"), "--classifier", dir.File(classifier), "--data", dir.File("digits"),
             "--epochs", "1", "--batch-size", "16", "--out", dir.File(run)];

        LdmProcess.Result foreign = LdmProcess.Run(Tune("foreign/model.safetensors", "tuned-foreign"), timeoutSeconds: 300);
        Assert.True(foreign.ExitCode == 0, foreign.Stderr);
        string[] notes = foreign.Stderr.Split('\n').Where(l => l.Contains("was trained on", StringComparison.Ordinal)).ToArray();
        string note = Assert.Single(notes);
        Assert.Equal($"note: {dir.File("foreign/model.safetensors")} was trained on others, not digits; its features still define the perceptual term", note.TrimEnd());
        Assert.True(File.Exists(dir.File("tuned-foreign/model.safetensors")));

        LdmProcess.Result own = LdmProcess.Run(Tune("own/model.safetensors", "tuned-own"), timeoutSeconds: 300);
        Assert.True(own.ExitCode == 0, own.Stderr);
        Assert.DoesNotContain("was trained on", own.Stderr);
    }
}
