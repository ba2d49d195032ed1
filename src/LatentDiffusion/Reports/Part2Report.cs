using LatentDiffusion.Data;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>What the part-2 report describes: the two trained models and the data; histories and FID rows if known.</summary>
public sealed record Part2ReportInputs(ConvAutoencoder Autoencoder, Vae Vae, MnistData Data)
{
    /// <summary>The autoencoder's weights file, named and hashed (SHA-256) on the page; null when it did not come from a file.</summary>
    public string? AutoencoderPath { get; init; }

    /// <summary>The VAE's weights file, named and hashed on the page; null when it did not come from a file.</summary>
    public string? VaePath { get; init; }

    /// <summary>The autoencoder's logged epochs (train_loss, val_loss); null or empty skips ae_loss.png with a note.</summary>
    public IReadOnlyList<EpochLog>? AutoencoderHistory { get; init; }

    /// <summary>The VAE's logged epochs (with train_rec, train_kl, val_rec, val_kl); null or empty skips vae_loss.png with a note.</summary>
    public IReadOnlyList<EpochLog>? VaeHistory { get; init; }

    /// <summary>The FID table (<see cref="GeneratorFid"/>); null or empty says it was not computed.</summary>
    public IReadOnlyList<GeneratorFidRow>? FidRows { get; init; }
}

/// <summary>What <see cref="Part2Report.Write"/> wrote, and what it measured on the way.</summary>
/// <param name="Shown">Test indices of the digits shown over their reconstructions.</param>
/// <param name="AutoencoderShownSse">Mean summed squared error per image of the shown autoencoder reconstructions (clipped to [0, 1]).</param>
/// <param name="VaeShownSse">The same for the VAE's reconstructions decode(μ + σ·ε).</param>
/// <param name="Notes">Things the report skipped or could not check, also listed on the page.</param>
public sealed record Part2ReportResult(
    string Directory, IReadOnlyList<ReportFigure> Figures, IReadOnlyList<int> Shown, double AutoencoderShownSse, double VaeShownSse,
    IReadOnlyList<string> Notes)
{
    public string? AutoencoderSha256 { get; init; }

    public string? VaeSha256 { get; init; }

    /// <summary>Nearest-centroid accuracy of the test digits in the 2-D LDA plane of the autoencoder's latents; null if LDA failed.</summary>
    public double? AutoencoderLdaAccuracy { get; init; }

    /// <summary>The same for the VAE's means μ.</summary>
    public double? VaeLdaAccuracy { get; init; }

    public string IndexPath => Path.Combine(Directory, Page.IndexName);
    public string MarkdownPath => Path.Combine(Directory, Page.MarkdownName);
}

/// <summary>
/// Reproduces the part-2 post as a report directory: for the autoencoder and for the VAE, the loss curves, test digits
/// over their reconstructions, 4 × 8 samples, two latent elements and the 2-D LDA projection of the test latents
/// coloured by digit; interpolations between two test digits in both latent spaces; the FID table if given; and
/// index.html / report.md putting them beside the post's statements. Every file goes through <see cref="AtomicFile"/>.
/// </summary>
public static class Part2Report
{
    /// <summary>Writes every figure, index.html and report.md into <paramref name="outDirectory"/>.</summary>
    public static Part2ReportResult Write(Part2ReportInputs inputs, string outDirectory, Part2ReportConfig? config = null, IProgress<string>? progress = null)
    {
        config ??= new Part2ReportConfig();
        config.Validate();
        MnistSplit test = inputs.Data.Test;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(config.ReconstructionCount, test.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(config.InterpolationStart, test.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(config.InterpolationEnd, test.Count);
        Directory.CreateDirectory(outDirectory);
        var figures = new FigureWriter(outDirectory);
        var notes = new List<string>();
        ConvAutoencoder ae = inputs.Autoencoder;
        Vae vae = inputs.Vae;
        int scale = config.DigitScale, samples = config.SampleRows * config.SampleColumns, seed = config.Seed;

        using Tensor x = test.ToInputs();                                                      // (N, 1, 32, 32)
        int[] shown = Choose(test.Count, config.ReconstructionCount, seed);
        using Tensor originals = x.index_select(0, tensor(shown.Select(i => (long)i).ToArray()));
        string shownText = $"{shown.Length} test digits chosen at random (seed {seed})";

        // The autoencoder.
        if (inputs.AutoencoderHistory is { Count: > 0 } aeHistory)
            figures.Save("ae_loss.png", LossCurve.Render(aeHistory, "Autoencoder loss per logged epoch", "squared error summed over the image",
                "validation (the test images)", config.PlotWidth, config.PlotHeight), "Autoencoder loss", Part2Page.AutoencoderLossCaption(aeHistory));
        else
            notes.Add("No autoencoder history was given, so ae_loss.png was not drawn.");

        progress?.Report("autoencoder reconstructions");
        double aeSse;
        using (Tensor reconstructed = Part2Sampling.AutoencoderReconstructions(ae, originals, config.BatchSize))
        {
            aeSse = MeanSse(reconstructed, originals);
            figures.Save("ae_reconstructions.png",
                Part2Figures.Reconstructions(originals, reconstructed, ("test", "AE"), "Autoencoder: test digits and their reconstructions", shownText, scale),
                "Autoencoder reconstructions", Part2Page.AutoencoderReconstructionCaption(shown.Length, seed, aeSse), isImageGrid: true);
        }

        progress?.Report("autoencoder samples (latent statistics of the training set)");
        using (Tensor train = inputs.Data.Train.ToInputs())
        {
            var (mean, std) = Part2Sampling.LatentStatistics(ae, train, config.BatchSize);
            using (mean)
            using (std)
            using (Tensor generated = Part2Sampling.AutoencoderSamples(ae, mean, std, samples, seed, config.BatchSize))
                figures.Save("ae_samples.png",
                    DigitFigures.Tiles(generated, config.SampleColumns, "Autoencoder: decoded Gaussian latents",
                        $"z ~ N(mean, std²) of the {inputs.Data.Train.Count} training latents, per element; seed {seed}", scale),
                    "Autoencoder samples", Part2Page.AutoencoderSamplesCaption(samples, inputs.Data.Train.Count, seed), isImageGrid: true);
        }

        progress?.Report("autoencoder latents of the test set");
        double? aeLda;
        using (Tensor latents = Part2Sampling.AutoencoderLatents(ae, x, config.BatchSize))   // (N, C, 4, 4)
        {
            figures.Save("ae_latent_scatter.png",
                Part2Figures.LatentScatter(latents, test.Labels, config.ScatterFirst, config.ScatterSecond,
                    $"Autoencoder: two latent elements of the {test.Count} test digits", config.ScatterWidth, config.ScatterHeight),
                "Autoencoder latent scatter", Part2Page.LatentScatterCaption("autoencoder latents z", test.Count));
            aeLda = LdaFigure(figures, notes, "ae_lda.png", latents, test.Labels, vae: false, config);
        }

        // The VAE.
        if (inputs.VaeHistory is { Count: > 0 } vaeHistory)
        {
            if (Part2Figures.HasVaeTerms(vaeHistory))
                figures.Save("vae_loss.png", Part2Figures.VaeLoss(vaeHistory, config.PanelWidth, config.PlotHeight), "VAE loss", Part2Page.VaeLossCaption(vaeHistory, vae.Config.KlWeight));
            else
                notes.Add("The VAE history lacks train_rec, train_kl, val_rec or val_kl (is it a VAE run?), so vae_loss.png was not drawn.");
        }
        else
            notes.Add("No VAE history was given, so vae_loss.png was not drawn.");

        progress?.Report("VAE reconstructions");
        double vaeSse;
        using (Tensor reconstructed = Part2Sampling.VaeReconstructions(vae, originals, seed, config.BatchSize))
        {
            vaeSse = MeanSse(reconstructed, originals);
            figures.Save("vae_reconstructions.png",
                Part2Figures.Reconstructions(originals, reconstructed, ("test", "VAE"), "VAE: test digits and their reconstructions",
                    $"{shownText}; decoded from z = μ + σ·ε", scale),
                "VAE reconstructions", Part2Page.VaeReconstructionCaption(shown.Length, seed, vaeSse, aeSse), isImageGrid: true);
        }

        progress?.Report("VAE samples");
        using (Tensor generated = Part2Sampling.VaeSamples(vae, samples, seed, config.BatchSize))
            figures.Save("vae_samples.png",
                DigitFigures.Tiles(generated, config.SampleColumns, "VAE: decoded z ~ N(0, I)", $"seed {seed}", scale),
                "VAE samples", Part2Page.VaeSamplesCaption(samples, seed), isImageGrid: true);

        progress?.Report("VAE means of the test set");
        double? vaeLda;
        using (Tensor means = Part2Sampling.VaeMeans(vae, x, config.BatchSize))             // (N, C, 4, 4)
        {
            figures.Save("vae_latent_scatter.png",
                Part2Figures.LatentScatter(means, test.Labels, config.ScatterFirst, config.ScatterSecond,
                    $"VAE: two elements of μ for the {test.Count} test digits", config.ScatterWidth, config.ScatterHeight, symbol: "μ"),
                "VAE latent scatter", Part2Page.LatentScatterCaption("VAE means μ", test.Count));
            vaeLda = LdaFigure(figures, notes, "vae_lda.png", means, test.Labels, vae: true, config);
        }

        progress?.Report("interpolations");
        int start = config.InterpolationStart, end = config.InterpolationEnd;
        double[] alphas = Enumerable.Range(0, config.InterpolationSteps).Select(i => (double)i / (config.InterpolationSteps - 1)).ToArray();
        using (Tensor ends = x.index_select(0, tensor(new long[] { start, end })))           // (2, 1, 32, 32)
        using (Tensor aeEnds = Part2Sampling.AutoencoderLatents(ae, ends))
        using (Tensor vaeEnds = Part2Sampling.VaeMeans(vae, ends))
        using (Tensor aeStrip = DecodeClipped(ae, ae.Decode, Lerp(aeEnds, alphas)))              // (K, 1, 32, 32)
        using (Tensor vaeStrip = DecodeClipped(vae, vae.Decode, Lerp(vaeEnds, alphas)))
            figures.Save("interpolation.png",
                Part2Figures.Interpolation(ends, [("AE", aeStrip), ("VAE μ", vaeStrip)], alphas,
                    $"Decoded (1 − α)·z₀ + α·z₁ between test images {start} and {end}",
                    $"start: test image {start} (a {test.Labels[start]}); end: test image {end} (a {test.Labels[end]})", scale),
                "Latent interpolation", Part2Page.InterpolationCaption(start, end, test.Labels[start], test.Labels[end], alphas.Length), isImageGrid: true);

        if (inputs.FidRows is not { Count: > 0 })
            notes.Add("No FID table was given (ldm reproduce part2 computes it).");

        var result = new Part2ReportResult(outDirectory, figures.Figures, shown, aeSse, vaeSse, notes)
        {
            AutoencoderSha256 = inputs.AutoencoderPath is { } aeFile ? ModelWeights.Sha256(aeFile) : null,
            VaeSha256 = inputs.VaePath is { } vaeFile ? ModelWeights.Sha256(vaeFile) : null,
            AutoencoderLdaAccuracy = aeLda,
            VaeLdaAccuracy = vaeLda,
        };
        progress?.Report("index.html and report.md");
        Part2Page.Write(inputs, result, config);
        return result;
    }

    /// <summary>Draws the LDA scatter of <paramref name="latents"/>; returns the nearest-centroid accuracy, or null (with a note) when LDA is impossible.</summary>
    static double? LdaFigure(FigureWriter figures, List<string> notes, string name, Tensor latents, byte[] labels, bool vae, Part2ReportConfig config)
    {
        string model = vae ? "VAE" : "Autoencoder";
        LdaProjection projection;
        try
        {
            projection = Lda.FitTransform(latents, labels);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            notes.Add($"No LDA of the {model} latents ({e.Message}), so {name} was not drawn.");
            return null;
        }
        double accuracy = projection.NearestCentroidAccuracy(labels.Select(l => (int)l).ToArray());
        figures.Save(name,
            Part2Figures.LdaScatter(projection, labels, $"{model}: test latents on their first two linear discriminants", config.ScatterWidth, config.ScatterHeight),
            $"{model} latents, LDA", Part2Page.LdaCaption(vae, projection, accuracy, latents.shape));
        return accuracy;
    }

    /// <summary><paramref name="count"/> distinct indices below <paramref name="n"/>, by a partial Fisher–Yates shuffle seeded with <paramref name="seed"/>.</summary>
    static int[] Choose(int n, int count, int seed)
    {
        var random = new Random(seed);
        int[] indices = Enumerable.Range(0, n).ToArray();
        for (int k = 0; k < count; k++)
        {
            int j = random.Next(k, n);
            (indices[k], indices[j]) = (indices[j], indices[k]);
        }
        return indices[..count];
    }

    /// <summary>(1 − α)·z₀ + α·z₁ for every α: (K, C, h, w) from the two latents <paramref name="ends"/> (2, C, h, w).</summary>
    static Tensor Lerp(Tensor ends, IReadOnlyList<double> alphas)
    {
        using var scope = NewDisposeScope();
        Tensor a = tensor(alphas.ToArray()).to_type(ends.dtype).reshape(-1, 1, 1, 1);       // (K, 1, 1, 1)
        Tensor z0 = ends.narrow(0, 0, 1), z1 = ends.narrow(0, 1, 1);                        // (1, C, h, w) each
        return z0.mul(ones_like(a).sub(a)).add(z1.mul(a)).MoveToOuterDisposeScope();
    }

    /// <summary>decode(z) clipped to [0, 1], in eval mode under no_grad; the model's mode is restored.</summary>
    static Tensor DecodeClipped(nn.Module model, Func<Tensor, Tensor> decode, Tensor z)
    {
        using (z)
        {
            using var eval = EvalMode.Of(model);
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            return decode(z).clamp(0.0, 1.0).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Mean over images of the squared error summed over each image (the post's loss).</summary>
    static double MeanSse(Tensor reconstructed, Tensor originals)
    {
        using var scope = NewDisposeScope();
        return Vae.ReconstructionLoss(reconstructed, originals).to_type(ScalarType.Float64).mean().item<double>();
    }
}
