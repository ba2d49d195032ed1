using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Data;

/// <summary>
/// Part 3's latent dataset: one z = μ + σ·ε per image from a VAE's encoder in eval mode, drawn once (the post does
/// not resample per epoch), ε from a generator seeded by the caller. Latents are just another (N, C, 4, 4) tensor.
/// (The post's notebook transposes H and W first, a layout leftover; images are used as the VAE saw them.)
/// </summary>
public static class Latents
{
    public static Tensor Encode(Vae vae, Tensor images, long seed, int batchSize = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        bool training = vae.training;
        vae.eval();
        try
        {
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
        finally
        {
            vae.train(training);
        }
    }
}
