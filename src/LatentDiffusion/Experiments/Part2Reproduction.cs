using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>
/// <c>ldm reproduce part2</c>'s FID table: N samples of the VAE (z ~ N(0, I)) and of the autoencoder (Gaussian latents
/// with the training latents' per-element mean and std), each at seeds S … S + K − 1 and shown as the mean over them
/// with the range; the reconstructions of the test set (the floors) and Validation and Random, one set each.
/// </summary>
public static class Part2Reproduction
{
    /// <summary>
    /// The table: Validation, Random, VAE, AE, VAE reconstructions, AE reconstructions. The reconstruction rows are
    /// references, not generators: the VAE's draws z = μ + σ·ε use seed <paramref name="seed"/> only.
    /// </summary>
    /// <param name="seeds">Sampling seeds K of the VAE and AE rows (1: one seed, as the post).</param>
    public static IReadOnlyList<GeneratorFidRow> FidTable(Classifier classifier, ConvAutoencoder autoencoder, Vae vae, MnistData mnist,
        int count, long seed, int seeds, FidScorer scorer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seeds);
        using Tensor trainImages = mnist.Train.ToInputs();
        using Tensor test = mnist.Test.ToInputs();
        var aeSamples = new List<Tensor>();
        var vaeSamples = new List<Tensor>();
        try
        {
            (Tensor mean, Tensor std) = Part2Sampling.LatentStatistics(autoencoder, trainImages);
            using (mean)
            using (std)
                for (int k = 0; k < seeds; k++) aeSamples.Add(Part2Sampling.AutoencoderSamples(autoencoder, mean, std, count, seed + k));
            for (int k = 0; k < seeds; k++) vaeSamples.Add(Part2Sampling.VaeSamples(vae, count, seed + k));
            using Tensor aeRecon = Part2Sampling.AutoencoderReconstructions(autoencoder, test);
            using Tensor vaeRecon = Part2Sampling.VaeReconstructions(vae, test, seed);
            string seedsNote = seeds > 1 ? $"; the mean of seeds {seed}-{seed + seeds - 1}" : "";
            return GeneratorFid.TableOverSeeds(classifier, mnist,
            [
                ("VAE", $"{count} VAE samples, z ~ N(0, I), clipped to [0, 1]{seedsNote}", vaeSamples, (double?)BlogPart2.FidVae),
                ("AE", $"{count} autoencoder samples, latents ~ N(training latents' per-element mean, std), clipped{seedsNote}", aeSamples, null),
                ("VAE reconstructions", "the VAE's reconstructions of the test set, decode(μ + σ·ε): the floor of any generator in its latent space", [vaeRecon], null),
                ("AE reconstructions", "the autoencoder's reconstructions of the test set", [aeRecon], null),
            ], seed, scorer);
        }
        finally
        {
            foreach (Tensor t in aeSamples.Concat(vaeSamples)) t.Dispose();
        }
    }
}
