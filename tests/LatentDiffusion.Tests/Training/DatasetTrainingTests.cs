using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

/// <summary>
/// Training through the dataset path: MNIST's runs are the same bit for bit as with part 1's whole-set float tensors,
/// and a tiny coloured folder goes through classifier, VAE and conditional diffusion training to samples in seconds.
/// </summary>
[Collection("Torch")]
public sealed class DatasetTrainingTests
{
    static readonly TrainingConfig Tiny = new() { Epochs = 2, BatchSize = 32, LogEvery = 1, CheckpointEvery = 1, Seed = 5 };

    /// <summary>Part 1's task as it was: every image made float once, batches indexed from the float tensor.</summary>
    sealed class WholeSetClassifierTask(MnistSplit train, MnistSplit validation) : ITrainingTask<Classifier>
    {
        readonly Tensor x = train.ToInputs(), y = train.ToTargets(), xVal = validation.ToInputs(), yVal = validation.ToTargets();
        public string Architecture => nameof(Classifier);
        public string? Settings => null;
        public long TrainCount => x.shape[0];
        public Classifier CreateModel() => new();
        public BatchLoss Loss(Classifier model, Tensor indices, Generator generator) =>
            new(nn.functional.cross_entropy(model.forward(x.index_select(0, indices)), y.index_select(0, indices)));
        public ValidationResult Validate(Classifier model, int batchSize, Generator generator)
        {
            EvaluationResult val = ClassifierEvaluation.Evaluate(model, xVal, yVal, batchSize);
            return new ValidationResult(val.Loss, [("val_accuracy", val.Accuracy)]);
        }
    }

    static void AssertSameWeights(nn.Module expected, nn.Module actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (string key in a.Keys) Assert.True(a[key].eq(b[key]).all().item<bool>(), $"{key} differs");
    }

    [Fact]
    public void ClassifierTask_MnistThroughBytes_IsBitIdenticalToWholeSetTensors()
    {
        using var dir = new TempDirectory();
        MnistData data = SyntheticData.Dataset(96, 40);
        using var reference = new Trainer<Classifier>(Tiny).Train(new WholeSetClassifierTask(data.Train, data.Test), dir.File("reference")).Model;
        using var viaBytes = ClassifierTask.Train(Tiny, IdxDatasetKind.FromMnist(data), dir.File("bytes")).Model;
        AssertSameWeights(reference, viaBytes);
        Assert.Null(ModelFile.ReadHeader(dir.File("bytes/model.safetensors")).Settings);   // part 1's shape records no settings
        static IEnumerable<string> WithoutSeconds(string path) => File.ReadAllLines(path).Select(line => line[..line.LastIndexOf(',')]);
        Assert.Equal(WithoutSeconds(dir.File("reference/history.csv")), WithoutSeconds(dir.File("bytes/history.csv")));   // losses and accuracy, bit for bit
    }

    [Fact]
    public void VaeTask_MnistThroughBytes_IsBitIdenticalToWholeSetTensors()
    {
        using var dir = new TempDirectory();
        MnistData data = SyntheticData.Dataset(64, 32);
        var config = new VaeConfig { Features = [1, 4, 4, 8] };
        using Tensor train = data.Train.ToInputs(), test = data.Test.ToInputs();
        using var reference = new Trainer<Vae>(Tiny).Train(new VaeTask(train, test, config), dir.File("reference")).Model;
        ImageDataset dataset = IdxDatasetKind.FromMnist(data);
        VaeConfig same = config.ForResolution(dataset.Channels, dataset.Resolution);
        Assert.Same(config, same);
        using var viaBytes = new Trainer<Vae>(Tiny).Train(new VaeTask(dataset.Train, dataset.Test, same, dataset.Info), dir.File("bytes")).Model;
        AssertSameWeights(reference, viaBytes);
        Assert.Equal(ModelFile.ReadHeader(dir.File("reference/model.safetensors")).Settings, ModelFile.ReadHeader(dir.File("bytes/model.safetensors")).Settings);
    }

    /// <summary>The shipped conditional run now encodes MNIST through <see cref="ImageDataset"/> (as <c>ldm pipeline</c>): the same latents and labels bit for bit.</summary>
    [Fact]
    public void LatentSet_MnistThroughBytes_IsBitIdenticalToTheIdxPath()
    {
        using var dir = new TempDirectory();
        MnistData mnist = SyntheticData.Dataset(64, 32);
        using (Tensor train = mnist.Train.ToInputs(), test = mnist.Test.ToInputs())
            new Trainer<Vae>(Tiny with { Epochs = 1 }).Train(new VaeTask(train, test, new VaeConfig { Features = [1, 4, 4, 8], LatentChannels = 2 }), dir.File("vae")).Model.Dispose();
        string vaePath = dir.File("vae/model.safetensors");
        using var viaIdx = LatentSet.Encode(vaePath, mnist, 3);
        using var viaBytes = LatentSet.Encode(vaePath, IdxDatasetKind.FromMnist(mnist), 3);
        static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
        Assert.True(Same(viaIdx.Train, viaBytes.Train) && Same(viaIdx.Test, viaBytes.Test));
        Assert.True(Same(viaIdx.TrainLabels, viaBytes.TrainLabels) && Same(viaIdx.TestLabels, viaBytes.TestLabels));
    }

    [Fact]
    public void ColoredFolder_ClassifierVaeAndConditionalDiffusion_TrainAndSample()
    {
        using var dir = new TempDirectory();
        string folder = dir.File("colored");
        ColoredMnist.Write(SyntheticData.Dataset(64, 32), folder, seed: 0);
        ImageDataset data = Datasets.Load(folder);
        Assert.Equal((3, 32, 10), (data.Channels, data.Resolution, data.Classes));
        var oneEpoch = Tiny with { Epochs = 1 };

        ClassifierTask.Train(oneEpoch, data, dir.File("classifier")).Model.Dispose();
        string classifierPath = dir.File("classifier/model.safetensors");
        using Classifier classifier = ModelFile.LoadClassifier(classifierPath);
        DatasetInfo recorded = ModelFile.ReadData(classifierPath)!;
        Assert.Equal(data.Info.ContentSha256, recorded.ContentSha256);
        Assert.Equal(data.Info.ClassNames, recorded.ClassNames);
        Assert.Null(DataMatch.ClassifierProblem(classifier.Config, recorded, classifierPath, data.Info, sameData: true));
        Assert.Equal(32, ClassifierEvaluation.Evaluate(classifier, data.Test).Count);
        using (var features = NewDisposeScope())
            Assert.Equal([2, 128], classifier.Features(data.Test.Inputs(0, 2)).shape);

        VaeConfig vaeConfig = new VaeConfig { Features = [1, 4, 4, 8], LatentChannels = 2, Sigma = SigmaParameterization.LogVariance, HeadChannels = 8 }
            .ForResolution(data.Channels, data.Resolution);
        new Trainer<Vae>(oneEpoch).Train(new VaeTask(data.Train, data.Test, vaeConfig, data.Info), dir.File("vae")).Model.Dispose();
        string vaePath = dir.File("vae/model.safetensors");

        using (var latents = LatentSet.Encode(vaePath, data, seed: 0))
        {
            DiffusionConfig diffusion = latents.Config(new UNetConfig { LatentChannels = 2, Widths = [8, 16], Classes = data.Classes }) with
            {
                Objective = DiffusionObjective.AlphaDeblending,
            };
            using var task = new DiffusionTask(latents.Train, latents.Test, diffusion, latents.TrainLabels, latents.TestLabels, latents.Data);
            new Trainer<UNet>(oneEpoch).Train(task, dir.File("diffusion")).Model.Dispose();
        }
        string modelPath = dir.File("diffusion/model.safetensors");
        Assert.Equal(data.Info.ClassNames, ModelFile.ReadData(modelPath)!.ClassNames);
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
        using (unet)
        using (Vae vae = ModelFile.LoadVae(vaePath))
        {
            ModelFile.RequireFits(config, modelPath, vae, vaePath);
            using LatentSamples samples = LatentDiffusionSampler.Generate(unet, config, vae, 4, seed: 1,
                new SamplingOptions { Steps = 2, Labels = [0, 3, 7, 9], Guidance = 2 });
            Assert.Equal([4, 3, 32, 32], samples.Images.shape);
            Assert.True(samples.Images.isfinite().all().item<bool>());
            ImageOutput.Write(samples.Images, dir.File("grid.png"));
            ImageOutput.Write(samples.Images, dir.File("samples"));
        }
        Assert.True(File.Exists(dir.File("grid.png")));
        Assert.Equal(4, Directory.GetFiles(dir.File("samples"), "*.png").Length);
    }

    [Fact]
    public void Resume_OnOtherData_IsRefusedNamingBoth()
    {
        using var dir = new TempDirectory();
        var oneEpoch = Tiny with { Epochs = 1 };
        ImageDataset synthetic = IdxDatasetKind.FromMnist(SyntheticData.Dataset(64, 32));
        ImageDataset first = synthetic with { Info = synthetic.Info with { ContentSha256 = new string('a', 64) } };
        ImageDataset other = synthetic with { Info = synthetic.Info with { ContentSha256 = new string('b', 64) } };
        ClassifierTask.Train(oneEpoch, first, dir.File("run")).Model.Dispose();
        var e = Assert.Throws<DataFormatException>(() => ClassifierTask.Train(Tiny, other, dir.File("run"), resume: true));
        Assert.Contains("this run was trained on", e.Message);
        Assert.Contains(first.Info.ContentSha256[..12], e.Message);
        Assert.Contains(other.Info.ContentSha256[..12], e.Message);
        ClassifierTask.Train(Tiny, first, dir.File("run"), resume: true).Model.Dispose();   // the same data resumes
    }

    [Fact]
    public void DataOfAnotherShape_IsOneLineNamingBoth()
    {
        using var dir = new TempDirectory();
        string folder = dir.File("colored");
        ColoredMnist.Write(SyntheticData.Dataset(20, 10), folder);
        ImageDataset rgb = Datasets.Load(folder);
        string? problem = DataMatch.ClassifierProblem(ClassifierConfig.Part1, null, "models/classifier.safetensors", rgb.Info);
        Assert.NotNull(problem);
        Assert.Contains("models/classifier.safetensors", problem);
        Assert.Contains("colored (3x32x32", problem);
        Assert.DoesNotContain('\n', problem);

        ImageDataset mnist = IdxDatasetKind.FromMnist(SyntheticData.Dataset(20, 10));
        var otherData = mnist.Info with { ContentSha256 = new string('0', 64), Name = "Fashion-MNIST" };
        string? fid = DataMatch.ClassifierProblem(ClassifierConfig.Part1, otherData, "fashion.safetensors", mnist.Info, sameData: true);
        Assert.Contains("another dataset's classifier", fid);
        Assert.Contains("Fashion-MNIST", fid);

        var vae = new VaeConfig { Features = [1, 4, 4, 8] };
        using var trained = new TempDirectory();
        new Trainer<Vae>(Tiny with { Epochs = 1 }).Train(new VaeTask(mnist.Train, mnist.Test, vae), trained.Path).Model.Dispose();
        var e = Assert.Throws<DataFormatException>(() => LatentSet.Encode(trained.File("model.safetensors"), rgb, 0));
        Assert.Contains("1x32x32", e.Message);
        Assert.Contains("3x32x32", e.Message);
    }

    [Fact]
    public void Classifier_At64Px_KeepsPart1KeysAnd128Features()
    {
        using var part1 = new Classifier();
        using var wide = new Classifier(new ClassifierConfig { Channels = 3, Resolution = 64, Classes = 4 });
        Assert.Equal(part1.state_dict().Keys, wide.state_dict().Keys);
        wide.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = rand(2, 3, 64, 64);
        Assert.Equal([2, 128], wide.Features(x).shape);
        Assert.Equal([2, 4], wide.forward(x).shape);
        Assert.Equal([2, 16, 8, 8], wide.ForwardThrough(x, 5).shape);
        var vae = new Vae(new VaeConfig().ForResolution(3, 64));
        Assert.Equal([4, 4, 4], vae.LatentShape);
        Assert.Equal([2, 3, 64, 64], vae.forward(x).shape);
        vae.Dispose();
    }
}
