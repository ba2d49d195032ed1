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

    public static LatentSet Encode(string vaePath, MnistData mnist, long seed)
    {
        using Vae vae = ModelFile.LoadVae(vaePath);
        Tensor train = EncodeSplit(vae, mnist.Train, seed);
        Tensor test = EncodeSplit(vae, mnist.Test, seed + 1);
        return new LatentSet(train, test, Labels(mnist.Train, CPU), Labels(mnist.Test, CPU), vaePath, (int)vae.LatentShape[0]);
    }

    /// <summary>A diffusion config for these latents with <paramref name="unet"/>: latent scale <paramref name="scale"/> (null: 1/std), the scaled range, the VAE's hash.</summary>
    public DiffusionConfig Config(UNetConfig unet, double? scale = null)
    {
        scale ??= 1.0 / Train.std().item<float>();
        return new DiffusionConfig
        {
            UNet = unet,
            LatentScale = scale.Value,
            LatentRange = Train.abs().max().item<float>() * scale.Value,
            VaeSha256 = ModelWeights.Sha256(VaePath),
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
    public static Tensor EncodeImages(Vae vae, Tensor images, long seed, int batchSize = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var eval = EvalMode.Of(vae);
        using var noGrad = no_grad();
        using var generator = new Generator(unchecked((ulong)seed));
        var parts = new List<Tensor>();
        long n = images.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            parts.Add(vae.Sample(images.narrow(0, start, Math.Min(batchSize, n - start)), generator).MoveToOuterDisposeScope());
        }
        Tensor all = cat(parts, 0);
        foreach (Tensor p in parts) p.Dispose();
        return all;
    }
}
