using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// Part 3's latent dataset: MNIST encoded once by a VAE — one z = μ + σ·ε per image from the encoder in eval mode, drawn
/// once (the post does not resample per epoch), seeds <c>seed</c> and <c>seed + 1</c> — with the settings a diffusion
/// model on them records (scale 1/std, the scaled range, the VAE's SHA-256) and the labels, for conditional models.
/// What <c>diffusion train</c> and the shipped recipes' runs train on. (The post's notebook transposes H and W first, a
/// layout leftover; images are used as the VAE saw them.)
/// </summary>
public sealed class LatentSet : IDisposable
{
    LatentSet(Tensor train, Tensor test, Tensor trainLabels, Tensor testLabels, string vaePath, int channels)
    {
        Side = (int)train.shape[^1];
        Train = train;
        Test = test;
        TrainLabels = trainLabels;
        TestLabels = testLabels;
        VaePath = vaePath;
        Channels = channels;
    }

    public Tensor Train { get; }
    public Tensor Test { get; }
    public Tensor TrainLabels { get; }
    public Tensor TestLabels { get; }
    public string VaePath { get; }
    public int Channels { get; }

    /// <summary>The latents' side (4 for the series' VAEs, 8 for a VAE with one level fewer).</summary>
    public int Side { get; }

    /// <summary>The images' dataset, when encoded from one (recorded with the diffusion model: its class names, its hash).</summary>
    public DatasetInfo? Data { get; private init; }

    /// <summary>
    /// <paramref name="dataset"/> encoded by the VAE of <paramref name="vaePath"/>, as <see cref="Encode(string, MnistData, long)"/>
    /// (the same latents for an MNIST set), each batch made float only when encoded. Data of another shape than the
    /// VAE's is one line naming both.
    /// </summary>
    public static LatentSet Encode(string vaePath, ImageDataset dataset, long seed)
    {
        using Vae vae = ModelFile.LoadVae(vaePath);
        if (vae.Config.Channels != dataset.Channels || vae.Config.Side != dataset.Resolution)
            throw new DataFormatException(vaePath,
                $"the VAE works on {vae.Config.Channels}x{vae.Config.Side}x{vae.Config.Side} images but the data {dataset.Info.Describe()} is {dataset.Channels}x{dataset.Resolution}x{dataset.Resolution}; train a VAE on this data");
        Tensor train = EncodeImages(vae, dataset.Train, seed);
        Tensor test = EncodeImages(vae, dataset.Test, seed + 1);
        return new LatentSet(train, test, Labels(dataset.Train), Labels(dataset.Test), vaePath, (int)vae.LatentShape[0]) { Data = dataset.Info };
    }

    static Tensor Labels(LabelledImages split) => tensor(split.Labels.Select(l => (long)l).ToArray(), ScalarType.Int64);

    public static LatentSet Encode(string vaePath, MnistData mnist, long seed)
    {
        using Vae vae = ModelFile.LoadVae(vaePath);
        Tensor train = EncodeSplit(vae, mnist.Train, seed);
        Tensor test = EncodeSplit(vae, mnist.Test, seed + 1);
        return new LatentSet(train, test, Labels(mnist.Train, CPU), Labels(mnist.Test, CPU), vaePath, (int)vae.LatentShape[0]);
    }

    /// <summary>A diffusion config for these latents with <paramref name="unet"/> (at the latents' side): latent scale <paramref name="scale"/> (null: 1/std), the scaled range, the hash of the VAE whose latents they are (<see cref="VaeLineage.LatentSpaceOf"/>).</summary>
    public DiffusionConfig Config(UNetConfig unet, double? scale = null)
    {
        scale ??= 1.0 / Train.std().item<float>();
        return new DiffusionConfig
        {
            UNet = unet.ForLatentSide(Side),
            LatentScale = scale.Value,
            LatentRange = Train.abs().max().item<float>() * scale.Value,
            VaeSha256 = VaeLineage.LatentSpaceOf(VaePath),
        };
    }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
        TrainLabels.Dispose();
        TestLabels.Dispose();
    }

    /// <summary>A split's labels as (N,) int64 on <paramref name="device"/>.</summary>
    static Tensor Labels(MnistSplit split, Device device) => tensor(split.Labels.Select(b => (long)b).ToArray(), device: device);

    static Tensor EncodeSplit(Vae vae, MnistSplit split, long seed)
    {
        using Tensor images = split.ToInputs();
        return EncodeImages(vae, images, seed);
    }

    /// <summary>One z = μ + σ·ε per image (N, 1, 32, 32) → (N, C, 4, 4), ε drawn from a generator seeded with <paramref name="seed"/>, in batches.</summary>
    public static Tensor EncodeImages(Vae vae, Tensor images, long seed, int batchSize = 1000) =>
        EncodeBatches(vae, images.shape[0], (start, count) => images.narrow(0, start, count), seed, batchSize);

    /// <summary>As <see cref="EncodeImages(Vae, Tensor, long, int)"/> for images held as bytes, each batch made float when reached.</summary>
    public static Tensor EncodeImages(Vae vae, LabelledImages images, long seed, int batchSize = 1000) =>
        EncodeBatches(vae, images.Count, (start, count) => images.Inputs(start, count), seed, batchSize);

    static Tensor EncodeBatches(Vae vae, long n, Func<long, long, Tensor> batch, long seed, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var eval = EvalMode.Of(vae);
        using var noGrad = no_grad();
        using var generator = new Generator(unchecked((ulong)seed));
        var parts = new List<Tensor>();
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            parts.Add(vae.Sample(batch(start, Math.Min(batchSize, n - start)), generator).MoveToOuterDisposeScope());
        }
        Tensor all = cat(parts, 0);
        foreach (Tensor p in parts) p.Dispose();
        return all;
    }
}
