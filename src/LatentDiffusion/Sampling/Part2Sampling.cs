using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>
/// Part 2's two ways to make digits: the VAE decodes z ~ N(0, I); the autoencoder decodes Gaussian latents with the
/// training latents' per-element mean and standard deviation (the post's baseline). Outputs are clipped to [0, 1] as
/// the post does. Every draw comes from a generator seeded with the caller's seed; batches bound memory.
/// </summary>
public static class Part2Sampling
{
    public const int DefaultBatchSize = 1000;

    /// <summary><paramref name="count"/> VAE samples (count, 1, 32, 32) in [0, 1].</summary>
    public static Tensor VaeSamples(Vae vae, int count, long seed, int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var generator = new Generator(unchecked((ulong)seed));
        return Decode(count, batchSize, n =>
        {
            Tensor z = randn([n, .. vae.LatentShape], generator: generator);   // (n, C, 4, 4)
            return vae.Decode(z);
        }, vae);
    }

    /// <summary>Per-element mean and (unbiased) standard deviation of the autoencoder's latents of <paramref name="images"/>: each (1, C, 4, 4).</summary>
    public static (Tensor Mean, Tensor Std) LatentStatistics(ConvAutoencoder ae, Tensor images, int batchSize = DefaultBatchSize)
    {
        using var scope = NewDisposeScope();
        Tensor z = Map(images, batchSize, x => ae.Encode(x), ae);
        Tensor mean = z.mean([0], keepdim: true);
        Tensor std = z.std([0], unbiased: true, keepdim: true);
        return (mean.MoveToOuterDisposeScope(), std.MoveToOuterDisposeScope());
    }

    /// <summary><paramref name="count"/> autoencoder samples: decode(mean + std·ε), clipped to [0, 1].</summary>
    public static Tensor AutoencoderSamples(ConvAutoencoder ae, Tensor mean, Tensor std, int count, long seed, int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var generator = new Generator(unchecked((ulong)seed));
        return Decode(count, batchSize, n =>
        {
            Tensor eps = randn([n, .. mean.shape.Skip(1)], generator: generator);
            return ae.Decode(eps.mul_(std).add_(mean));
        }, ae);
    }

    /// <summary>VAE reconstructions decode(μ + σ·ε) of <paramref name="images"/>, clipped to [0, 1]: the floor any generator in this latent space meets.</summary>
    public static Tensor VaeReconstructions(Vae vae, Tensor images, long seed, int batchSize = DefaultBatchSize)
    {
        using var generator = new Generator(unchecked((ulong)seed));
        return Map(images, batchSize, x => vae.Decode(vae.Sample(x, generator)).clamp_(0.0, 1.0), vae);
    }

    /// <summary>Autoencoder reconstructions of <paramref name="images"/>, clipped to [0, 1].</summary>
    public static Tensor AutoencoderReconstructions(ConvAutoencoder ae, Tensor images, int batchSize = DefaultBatchSize) =>
        Map(images, batchSize, x => ae.forward(x).clamp_(0.0, 1.0), ae);

    /// <summary>The VAE's posterior means μ of <paramref name="images"/>, (N, C, 4, 4).</summary>
    public static Tensor VaeMeans(Vae vae, Tensor images, int batchSize = DefaultBatchSize) =>
        Map(images, batchSize, x => vae.Encode(x).Mu, vae);

    /// <summary>The autoencoder's latents of <paramref name="images"/>, (N, C, 4, 4).</summary>
    public static Tensor AutoencoderLatents(ConvAutoencoder ae, Tensor images, int batchSize = DefaultBatchSize) =>
        Map(images, batchSize, x => ae.Encode(x), ae);

    /// <summary>Runs <paramref name="map"/> over <paramref name="images"/> in batches, eval mode, no_grad; concatenates.</summary>
    static Tensor Map(Tensor images, int batchSize, Func<Tensor, Tensor> map, nn.Module model)
    {
        long n = images.shape[0];
        return Batched(n, batchSize, (start, len) => map(images.narrow(0, start, len)), model);
    }

    static Tensor Decode(int count, int batchSize, Func<int, Tensor> decodeBatch, nn.Module model) =>
        Batched(count, batchSize, (_, len) => decodeBatch((int)len).clamp_(0.0, 1.0), model);

    static Tensor Batched(long count, int batchSize, Func<long, long, Tensor> batch, nn.Module model)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var eval = EvalMode.Of(model);
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            parts.Add(batch(start, Math.Min(batchSize, count - start)).MoveToOuterDisposeScope());
        }
        Tensor all = cat(parts, 0);
        foreach (Tensor p in parts) p.Dispose();
        return all;
    }
}
