using System.Reflection;
using System.Text.Json.Nodes;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Export.Distributed;

/// <summary>
/// <c>ldm distributed prepare</c>: a self-contained folder from which python/ldm_train_ddp.py trains one of our models
/// with PyTorch's DistributedDataParallel on any number of processes — bundle.json (<see cref="BundleSpec"/>), the
/// training data as the model sees it (<c>x_train</c>, <c>x_test</c>: images as uint8 (N, 1, 32, 32), already padded,
/// or the VAE's latents (N, C, 4, 4) float32 before scaling; <c>y_train</c>, <c>y_test</c>: labels int64), the initial
/// weights our <see cref="Trainer{TModel}"/> would start from (seeded as it seeds, built by the same task), the two
/// Python files, and a README with the command to run. Written as one folder or not at all (<see cref="AtomicFile.WriteDirectory"/>).
/// </summary>
public static class BundlePreparation
{
    /// <summary>The Python files a bundle carries (embedded from python/ at build time), so it runs where ldm is not installed.</summary>
    public static IReadOnlyList<string> Scripts { get; } = ["ldm_train_ddp.py", "ldm_modules.py"];

    /// <summary>Part 1's classifier on <paramref name="mnist"/> with <paramref name="config"/>.</summary>
    public static BundleSpec Classifier(string bundle, TrainingConfig config, MnistData mnist)
    {
        using var task = new ClassifierTask(mnist.Train, mnist.Test);
        return WriteImages(bundle, BundleKind.Classifier, task, config, mnist);
    }

    /// <summary>Part 2's VAE of <paramref name="model"/> on <paramref name="mnist"/>.</summary>
    public static BundleSpec Vae(string bundle, TrainingConfig config, VaeConfig model, MnistData mnist)
    {
        using Tensor train = mnist.Train.ToInputs(), test = mnist.Test.ToInputs();
        return WriteImages(bundle, BundleKind.Vae, new VaeTask(train, test, model), config, mnist);
    }

    /// <summary>Part 3's UNet of <paramref name="model"/> on <paramref name="latents"/> (scaled by the model's latent scale when trained).</summary>
    public static BundleSpec Diffusion(string bundle, TrainingConfig config, DiffusionConfig model, LatentSet latents)
    {
        bool conditional = model.UNet.Classes > 0;
        using var task = new DiffusionTask(latents.Train, latents.Test, model, conditional ? latents.TrainLabels : null, conditional ? latents.TestLabels : null);
        return Write(bundle, BundleKind.Diffusion, task, config, latents.Train, latents.TrainLabels, latents.Test, latents.TestLabels);
    }

    static BundleSpec WriteImages<TModel>(string bundle, BundleKind kind, ITrainingTask<TModel> task, TrainingConfig config, MnistData mnist) where TModel : nn.Module
    {
        using var scope = NewDisposeScope();
        return Write(bundle, kind, task, config, Pixels(mnist.Train), mnist.Train.ToTargets(), Pixels(mnist.Test), mnist.Test.ToTargets());
    }

    /// <summary>The model input (N, 1, 32, 32) back in bytes: round(x·255) recovers each pixel exactly, since x = p/255.</summary>
    static Tensor Pixels(MnistSplit split)
    {
        using Tensor x = split.ToInputs();
        return x.mul(255.0).round_().to_type(ScalarType.Byte);
    }

    static BundleSpec Write<TModel>(string bundle, BundleKind kind, ITrainingTask<TModel> task, TrainingConfig config,
        Tensor xTrain, Tensor yTrain, Tensor xTest, Tensor yTest) where TModel : nn.Module
    {
        ArgumentException.ThrowIfNullOrEmpty(bundle);
        config.Validate();
        var spec = new BundleSpec
        {
            Id = Guid.NewGuid().ToString("N"),
            Kind = kind,
            Architecture = task.Architecture,
            Settings = task.Settings,
            Model = task.Settings is null ? null : JsonNode.Parse(task.Settings),
            Training = config,
            TrainCount = task.TrainCount,
        };
        byte[] initial = InitialWeights(task, config, spec);
        byte[] data = Bytes(stream => Safetensors.Write(stream, new Dictionary<string, Tensor>
        {
            ["x_train"] = xTrain, ["y_train"] = yTrain, ["x_test"] = xTest, ["y_test"] = yTest,
        }, new Dictionary<string, string> { ["kind"] = kind.ToString() }));
        AtomicFile.WriteDirectory(bundle, add =>
        {
            add(BundleSpec.FileName, System.Text.Encoding.UTF8.GetBytes(spec.ToJson()));
            add(BundleSpec.DataFileName, data);
            add(BundleSpec.InitialFileName, initial);
            foreach (string script in Scripts) add(script, Script(script));
            add(BundleSpec.ReadmeFileName, System.Text.Encoding.UTF8.GetBytes(Readme(bundle, spec)));
        });
        return spec;
    }

    /// <summary>The weights <see cref="Trainer{TModel}"/> starts from: the global generator seeded with the run's seed, then the task's model.</summary>
    static byte[] InitialWeights<TModel>(ITrainingTask<TModel> task, TrainingConfig config, BundleSpec spec) where TModel : nn.Module
    {
        using Tensor saved = get_rng_state();
        try
        {
            manual_seed(config.Seed);
            using TModel model = task.CreateModel();
            var metadata = RunDirectory.Metadata(spec.Architecture, spec.Settings, config);
            metadata["bundle_id"] = spec.Id;
            return Bytes(stream => Safetensors.Write(stream, model.state_dict(), metadata));
        }
        finally
        {
            set_rng_state(saved);   // preparing a bundle leaves the caller's global generator as it was
        }
    }

    /// <summary>The command line that trains the bundle on <c>N</c> processes of this machine, as the README gives it.</summary>
    public static string Command(string bundle) => $"torchrun --nproc_per_node=N {Path.Combine(bundle, Scripts[0])} {bundle}";

    static string Readme(string bundle, BundleSpec spec) => $"""
        # Distributed bundle: {spec.Kind.ToString().ToLowerInvariant()} ({spec.Architecture}), {spec.Training.Epochs} epochs of {spec.TrainCount} examples, batch {spec.Training.BatchSize}

        Made by `ldm distributed prepare`. Train it with PyTorch (>= 1.13, torch and numpy only) on N processes — gloo on
        CPUs, NCCL when CUDA is present; N must divide the batch size {spec.Training.BatchSize}:

            {Command(bundle)}

        Several machines: `--nnodes=M --rdzv_backend=c10d --rdzv_endpoint=HOST:29400` on each (docs/operations.md).
        torch 1.13 under Python 3.11 (Debian 12's python3-torch) needs `--redirects 1 --tee 1` after `torchrun`: its own
        default `--redirects 0` fails there.
        Checkpoints go to {BundleSpec.RunFolder}/; the same command resumes. When it has finished, bring the weights home:

            ldm distributed import {bundle} --out DIR

        """;

    static byte[] Script(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("LatentDiffusion.Python." + name)
            ?? throw new InvalidOperationException($"{name} is not embedded in this build of LatentDiffusion");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    static byte[] Bytes(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }
}
