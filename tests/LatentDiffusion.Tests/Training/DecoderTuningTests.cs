using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

/// <summary>
/// Decoder tuning keeps the base VAE's encoder bit for bit — the latents every generator was trained on — records what
/// it was tuned from, moves the decoder towards the classifier's features, and resumes to the same weights.
/// </summary>
[Collection("Torch")]
public sealed class DecoderTuningTests
{
    static readonly TrainingConfig Tiny = new() { Epochs = 2, BatchSize = 16, LearningRate = 2e-3, LogEvery = 1, CheckpointEvery = 1, Seed = 3 };

    static (string Vae, string Classifier, ImageDataset Data) Trained(TempDirectory dir)
    {
        ImageDataset data = IdxDatasetKind.FromMnist(SyntheticData.Dataset(64, 32));
        new Trainer<Vae>(Tiny with { Epochs = 1 }).Train(new VaeTask(data.Train, data.Test, new VaeConfig { Features = [1, 4, 4, 8], LatentChannels = 2 }), dir.File("vae")).Model.Dispose();
        ClassifierTask.Train(Tiny with { Epochs = 1 }, data, dir.File("classifier")).Model.Dispose();
        return (dir.File("vae/model.safetensors"), dir.File("classifier/model.safetensors"), data);
    }

    [Fact]
    public void Tuning_KeepsTheEncoderAndItsLatents_ChangesTheDecoder_AndRecordsItsOrigin()
    {
        using var dir = new TempDirectory();
        var (vaePath, classifierPath, data) = Trained(dir);
        var task = new DecoderTuningTask(vaePath, classifierPath, 1.0, data.Train, data.Test, data.Info);
        using var tuned = new Trainer<Vae>(Tiny).Train(task, dir.File("tuned")).Model;
        using Vae reloaded = ModelFile.LoadVae(dir.File("tuned/model.safetensors"));
        using Vae based = ModelFile.LoadVae(vaePath);

        Assert.Equal(DecoderTuningTask.EncoderSha256(based), DecoderTuningTask.EncoderSha256(reloaded));
        Tensor x = data.Test.Inputs(0, 8);
        using (no_grad())
        {
            Assert.True(based.Encode(x).Mu.eq(reloaded.Encode(x).Mu).all().item<bool>(), "the latents are the base's");
            Assert.False(based.Decode(based.Encode(x).Mu).eq(reloaded.Decode(reloaded.Encode(x).Mu)).all().item<bool>(), "the decoder moved");
        }
        DecoderTuning? tuning = reloaded.Config.Tuning;
        Assert.NotNull(tuning);
        Assert.Equal(ModelWeights.Sha256(vaePath), tuning.BaseSha256);
        Assert.Equal(ModelWeights.Sha256(classifierPath), tuning.ClassifierSha256);
        Assert.Equal(1.0, tuning.FeatureWeight);
        Assert.Equal(based.Config, reloaded.Config);                        // the same shape: it loads wherever the base does
        string tunedPath = dir.File("tuned/model.safetensors"), baseSha = ModelWeights.Sha256(vaePath);
        Assert.Equal(VaeRelation.TunedDecoder, VaeLineage.Of(baseSha, tunedPath));     // a generator of the base samples through it, unwarned
        Assert.Equal(VaeRelation.Same, VaeLineage.Of(baseSha, vaePath));
        Assert.Equal(VaeRelation.Other, VaeLineage.Of(ModelWeights.Sha256(classifierPath), tunedPath));
    }

    [Fact]
    public void ThePerceptualTerm_LowersThePerceptualDistance_AndResumesToTheSameWeights()
    {
        using var dir = new TempDirectory();
        var (vaePath, classifierPath, data) = Trained(dir);
        var task = new DecoderTuningTask(vaePath, classifierPath, 10.0, data.Train, data.Test, data.Info);
        var fourEpochs = Tiny with { Epochs = 4 };
        using var straight = new Trainer<Vae>(fourEpochs).Train(task, dir.File("straight"));
        new Trainer<Vae>(fourEpochs with { Epochs = 2 }).Train(task, dir.File("resumed")).Model.Dispose();
        using var resumed = new Trainer<Vae>(fourEpochs).Train(task, dir.File("resumed"), resume: true);
        var a = straight.Model.state_dict();
        var b = resumed.Model.state_dict();
        foreach (string key in a.Keys) Assert.True(a[key].eq(b[key]).all().item<bool>(), $"{key} differs after 2 + 2 epochs");

        using var squaredErrorOnly = new Trainer<Vae>(fourEpochs).Train(new DecoderTuningTask(vaePath, classifierPath, 0.0, data.Train, data.Test, data.Info), dir.File("lambda0"));
        double with = straight.History[^1].Metric("val_feature"), without = squaredErrorOnly.History[^1].Metric("val_feature");
        Assert.True(with < without, $"val_feature with λ = 10: {with}; with λ = 0: {without}");
    }

    [Fact]
    public void AClassifierOfAnotherShape_IsOneLineNamingTheFile()
    {
        using var dir = new TempDirectory();
        var (vaePath, _, data) = Trained(dir);
        ColoredMnist.Write(SyntheticData.Dataset(20, 10), dir.File("colored"), seed: 0);
        ImageDataset colored = Datasets.Load(dir.File("colored"));
        ClassifierTask.Train(Tiny with { Epochs = 1 }, colored, dir.File("rgb")).Model.Dispose();
        var e = Assert.Throws<DataFormatException>(() => new DecoderTuningTask(vaePath, dir.File("rgb/model.safetensors"), 1.0, data.Train, data.Test));
        Assert.Contains("rgb/model.safetensors", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecoderTuningTask(vaePath, dir.File("rgb/model.safetensors"), double.NaN, data.Train, data.Test));
    }

    [Fact]
    public void AWiderDecoder_StartsAtTheBasesFunction_KeepsTheLatents_AndLoadsAsAnyVae()
    {
        using var dir = new TempDirectory();
        var (vaePath, classifierPath, data) = Trained(dir);
        var task = new DecoderTuningTask(vaePath, classifierPath, 1.0, data.Train, data.Test, data.Info, decoderWidth: 2);
        using Vae based = ModelFile.LoadVae(vaePath);
        Tensor x = data.Test.Inputs(0, 8);
        using (Vae start = task.CreateModel())
        using (no_grad())
        {
            start.eval();
            based.eval();
            Assert.Equal([2, 8, 4, 4, 1], based.Decoder.Features);
            Assert.Equal([2, 16, 8, 8, 1], start.Decoder.Features);              // the hidden widths doubled, latent and image channels kept
            Tensor z = based.Encode(x).Mu;
            double gap = start.Decode(z).sub(based.Decode(z)).abs().max().item<float>();
            Assert.True(gap < 1e-4, $"the widened decoder's output differs from the base's by {gap}");
            Assert.True(start.Decoder.parameters().Sum(p => p.numel()) > 3 * based.Decoder.parameters().Sum(p => p.numel()), "the hidden levels have about k² the weights");
        }
        using var tuned = new Trainer<Vae>(Tiny).Train(task, dir.File("wide")).Model;
        using Vae reloaded = ModelFile.LoadVae(dir.File("wide/model.safetensors"));
        Assert.Equal(2, reloaded.Config.DecoderWidth);
        Assert.Equal(DecoderTuningTask.EncoderSha256(based), DecoderTuningTask.EncoderSha256(reloaded));
        using (no_grad()) Assert.True(based.Encode(x).Mu.eq(reloaded.Encode(x).Mu).all().item<bool>(), "the latents are the base's");
        Assert.Equal(VaeRelation.TunedDecoder, VaeLineage.Of(ModelWeights.Sha256(vaePath), dir.File("wide/model.safetensors")));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecoderTuningTask(vaePath, classifierPath, 1.0, data.Train, data.Test, decoderWidth: 0));

        // Tuned again from the tuned file: still the base's latent space, and the file it started from recorded.
        var again = new DecoderTuningTask(dir.File("wide/model.safetensors"), classifierPath, 1.0, data.Train, data.Test, data.Info, decoderWidth: 2);
        new Trainer<Vae>(Tiny with { Epochs = 1 }).Train(again, dir.File("wider")).Model.Dispose();
        using Vae wider = ModelFile.LoadVae(dir.File("wider/model.safetensors"));
        Assert.Equal(4, wider.Config.DecoderWidth);
        Assert.Equal(ModelWeights.Sha256(vaePath), wider.Config.Tuning!.BaseSha256);
        Assert.Equal(ModelWeights.Sha256(dir.File("wide/model.safetensors")), wider.Config.Tuning.FromSha256);
        Assert.Equal(VaeRelation.TunedDecoder, VaeLineage.Of(ModelWeights.Sha256(vaePath), dir.File("wider/model.safetensors")));
    }

    [Fact]
    public void Widen_DecodersThatDifferInLayers_IsRefused()
    {
        using var narrow = new ConvDecoder([2, 8, 4, 1]);
        using var deeper = new ConvDecoder([2, 16, 8, 4, 1]);
        using var generator = new Generator(0);
        Assert.Throws<ArgumentException>(() => DecoderWidening.Widen(narrow, deeper, generator));
    }
}
