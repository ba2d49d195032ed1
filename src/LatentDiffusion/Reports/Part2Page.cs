using System.Globalization;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Reports;

/// <summary>
/// Part 2's index.html and report.md (composed once for both <see cref="Page"/> writers), and the figure captions:
/// each says what the post shows in its place and how ours compares. The post's own images are described, never copied.
/// </summary>
public static class Part2Page
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(Part2ReportInputs inputs, Part2ReportResult result, Part2ReportConfig config) =>
        Page.WriteBoth(result.Directory, page => Compose(page, inputs, result, config));

    static void Compose(Page page, Part2ReportInputs inputs, Part2ReportResult result, Part2ReportConfig config)
    {
        ReportFigure? Figure(string name) => result.Figures.FirstOrDefault(f => f.FileName == name);
        IReadOnlyList<ReportFigure> Figures(params string[] names) => names.Select(Figure).OfType<ReportFigure>().ToList();
        var data = inputs.Data;

        page.Title("Latent Diffusion Series, part 2: the autoencoder and the VAE, reproduced");
        page.Paragraph($"Data {ReportPaths.Display(data.Directory)} ({data.Train.Count} training and {data.Test.Count} test images, padded to 32×32, in [0, 1]). " +
                       $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. The post's figures are described in the captions, not reproduced here.");

        page.Section("Models", [], () => page.Table(["", "autoencoder", "VAE"], ModelRows(inputs, result)));

        page.Section("Autoencoder: training", Figure("ae_loss.png"), inputs.AutoencoderHistory is { Count: > 0 } aeHistory ? () => page.Table(["", "ours", "post (read off its plot)"],
        [
            ["Logged epochs", $"{aeHistory.Count} (last: epoch {aeHistory[^1].Epoch})", $"every {BlogPart2.LogEvery} of {BlogPart2.Epochs}"],
            ["First train loss", F(aeHistory[0].TrainLoss, 2), $"≈ {F(BlogPart2.AutoencoderTrainLossFirst, 1)}"],
            ["First validation loss", F(aeHistory[0].ValLoss, 2), $"≈ {F(BlogPart2.AutoencoderValLossFirst, 1)}"],
            ["Final train loss", F(aeHistory[^1].TrainLoss, 2), $"≈ {F(BlogPart2.AutoencoderTrainLossLast, 1)}"],
            ["Final validation loss", F(aeHistory[^1].ValLoss, 2), $"≈ {F(BlogPart2.AutoencoderValLossLast, 1)}"],
        ]) : null);
        page.Section("Autoencoder: reconstructions", Figure("ae_reconstructions.png"), null);
        page.Section("Autoencoder: sampling its latent space", Figure("ae_samples.png"), null);
        page.Section("Autoencoder: latent space", Figures("ae_latent_scatter.png", "ae_lda.png"), null);

        page.Section("VAE: training", Figure("vae_loss.png"), inputs.VaeHistory is { Count: > 0 } vaeHistory && Part2Figures.HasVaeTerms(vaeHistory) ? () =>
        {
            EpochLog last = vaeHistory[^1];
            page.Table(["final (epoch " + last.Epoch.ToString(Inv) + ")", "train", "validation"],
            [
                ["Loss (reconstruction + KL)", F(last.TrainLoss, 2), F(last.ValLoss, 2)],
                ["Reconstruction (squared error per image)", F(last.Metric("train_rec"), 2), F(last.Metric("val_rec"), 2)],
                ["KL per image", F(last.Metric("train_kl"), 2), F(last.Metric("val_kl"), 2)],
            ]);
            page.Paragraph("The post reports no VAE loss value and shows no VAE loss curve.");
        } : null);
        page.Section("VAE: reconstructions", Figure("vae_reconstructions.png"), () => page.Table(["shown test digits", "squared error per image"],
        [
            ["autoencoder", F(result.AutoencoderShownSse, 2)],
            ["VAE, z = μ + σ·ε", F(result.VaeShownSse, 2)],
        ]));
        page.Section("VAE: samples", Figure("vae_samples.png"), null);
        page.Section("VAE: latent space", Figures("vae_latent_scatter.png", "vae_lda.png"),
            result.AutoencoderLdaAccuracy is { } aeAccuracy && result.VaeLdaAccuracy is { } vaeAccuracy ? () =>
            {
                page.Table(["2-D LDA of the test latents", "nearest-centroid accuracy"],
                [
                    ["autoencoder z", Pct(aeAccuracy)],
                    ["VAE μ", Pct(vaeAccuracy)],
                ]);
                page.Paragraph(vaeAccuracy < aeAccuracy
                    ? "By this measure the VAE's digit clusters overlap more than the autoencoder's, as the post finds."
                    : "By this measure the VAE's digit clusters do not overlap more than the autoencoder's, unlike the post's.");
            } : null);

        page.Section("Latent interpolation", Figure("interpolation.png"), null);

        page.Section("FID", [], () => FidTable(page, inputs.FidRows));

        var times = new List<string[]>();
        if (inputs.AutoencoderHistory is { Count: > 0 } h1) times.Add(TimeRow("autoencoder", h1));
        if (inputs.VaeHistory is { Count: > 0 } h2) times.Add(TimeRow("VAE", h2));
        if (times.Count > 0)
            page.Section("Training time", [], () =>
            {
                page.Table(["model", "last epoch", "measured", "per epoch"], times);
                page.Paragraph("The post states no training time or hardware.");
            });

        if (result.Notes.Count > 0)
            page.Section("Notes", [], () => page.List(result.Notes));
    }

    static List<string[]> ModelRows(Part2ReportInputs inputs, Part2ReportResult result)
    {
        ConvAutoencoder ae = inputs.Autoencoder;
        Vae vae = inputs.Vae;
        string Shape(IEnumerable<long> shape) => string.Join("×", shape);
        var rows = new List<string[]>
        {
            new[] { "File", FileName(inputs.AutoencoderPath), FileName(inputs.VaePath) },
            new[] { "SHA-256", result.AutoencoderSha256 ?? "", result.VaeSha256 ?? "" },
            new[] { "Parameters", ae.ParameterCount().ToString(Inv), vae.ParameterCount().ToString(Inv) },
            new[] { "Parameters (post)", BlogPart2.AutoencoderParameterCount.ToString(Inv), $"not stated ({Vae.ExpectedParameterCount.ToString(Inv)} from its code)" },
            new[] { "Channels", string.Join(", ", ae.Config.Features), string.Join(", ", vae.Config.EncoderFeatures) },
            new[] { "Latent", Shape([ae.Config.LatentChannels, 32 >> ae.Encoder.Downsamplings, 32 >> ae.Encoder.Downsamplings]), Shape(vae.LatentShape) + $" (μ and σ; KL weight {vae.Config.KlWeight.ToString(Inv)})" },
        };
        return rows;
    }

    static string FileName(string? path) => path is null ? "(not from a file)" : ReportPaths.Display(path);

    static void FidTable(Page page, IReadOnlyList<GeneratorFidRow>? rows)
    {
        if (rows is not { Count: > 0 })
        {
            page.Paragraph($"Not computed in this run. Part 3 of the series reports FID {F(BlogPart2.FidVae, 2)} for VAE samples, " +
                           $"{F(BlogPart1.FidRandom, 2)} for random noise and {F(BlogPart1.FidValidation, 2)} for the validation split; part 2 reports none.");
            return;
        }
        static string M(double? value) => value is double v ? F(v, 3) : "-";
        page.Table(["row", "FID preact", "FID flatten", "ratio to Random", "ratio to Validation", "post FID", "post ratio to Random", "post ratio to Validation",
                "precision", "recall", "density", "coverage", "memorised"],
            rows.Select(r => new[]
            {
                r.Name, F(r.FidPreact, 2) + SeedRange(r), F(r.FidFlatten, 2), F(r.RatioToRandom, 4), F(r.RatioToValidation, 2),
                r.BlogFid is { } b ? F(b, 2) : "", r.BlogRatioToRandom is { } rr ? F(rr, 4) : "", r.BlogRatioToValidation is { } rv ? F(rv, 2) : "",
                M(r.Manifold?.Precision), M(r.Manifold?.Recall), M(r.Manifold?.Density), M(r.Manifold?.Coverage), M(r.MemorisedFraction),
            }).ToList());
        page.List(rows.Select(r => $"{r.Name}: {ReportPaths.InText(r.Description)}").ToList());
        page.Paragraph("Every row against the training images. FID values depend on the classifier's weights, so compare the ratios: " +
                       "ours to our Random and Validation rows, the post's to its own (part 3's table). Preact: part 1's features (the third " +
                       "convolution before its ReLU, average-pooled); flatten: the 128 inputs of the last linear layer, the layer part 3 names. " + QualityNote + SeedsNote(rows));
    }

    /// <summary>A row of several sampling seeds: its FID's lowest and highest, after the mean (nothing for one seed).</summary>
    internal static string SeedRange(GeneratorFidRow r) =>
        r.Seeds > 1 ? $" ({F(r.FidPreactRange.Min, 2)}–{F(r.FidPreactRange.Max, 2)}, {r.Seeds} seeds)" : "";

    /// <summary>What a table with rows of several sampling seeds shows (nothing when every row is one seed).</summary>
    internal static string SeedsNote(IReadOnlyList<GeneratorFidRow> rows) => rows.Max(r => r.Seeds) is int k and > 1
        ? $" The sampled rows are each the mean of {k} sampling seeds, every number averaged, with the preact FID's lowest and highest in brackets; " +
          "Validation, Random and the reconstructions (references, not generators) are one set each."
        : "";

    /// <summary>What the columns beyond FID of parts 2 and 3's tables mean.</summary>
    internal const string QualityNote =
        "Precision and recall (k = 3), density and coverage (k = 5): the row's k-NN manifold metrics against the training images in the preact " +
        "features; memorised: the share of its images nearer to a training image than 99% of the test images are (the test set's 1st percentile; " +
        "Validation: 0.010 by construction). Validation is their reference row, real digits against real digits (docs/metrics.md).";

    public static string AutoencoderLossCaption(IReadOnlyList<EpochLog> history) =>
        $"Squared error summed over each image: train (mean over the epoch's batches) and validation (the test images), at {history.Count} logged " +
        $"epoch{(history.Count == 1 ? "" : "s")} (last: {history[^1].Epoch}); ours ends at {F(history[^1].TrainLoss, 2)} and {F(history[^1].ValLoss, 2)}. " +
        $"The post's plot (every {BlogPart2.LogEvery} epochs to {BlogPart2.Epochs - BlogPart2.LogEvery}) falls from about " +
        $"{F(BlogPart2.AutoencoderTrainLossFirst, 1)} and {F(BlogPart2.AutoencoderValLossFirst, 1)} to about {F(BlogPart2.AutoencoderTrainLossLast, 1)} " +
        $"and {F(BlogPart2.AutoencoderValLossLast, 1)} (read by eye) and \"nicely starts evening out at about 400 epochs\".";

    public static string AutoencoderReconstructionCaption(int count, int seed, double sse) =>
        $"{count} test digits (seed {seed}, top) and the autoencoder's reconstructions, clipped to [0, 1] (bottom); mean squared error per image " +
        $"{F(sse, 2)}. The post's figure, the same layout with other digits, shows close copies where \"some details are lost, like the small line on the number 8\".";

    public static string AutoencoderSamplesCaption(int count, int trainCount, int seed) =>
        $"{count} decodes of latents drawn from a Gaussian with the per-element mean and standard deviation of the {trainCount} training " +
        $"latents (seed {seed}), clipped. The post's 4×8 grid of the same is garbled, not digit-like: the latent space is \"clearly non-gaussian\", " +
        "so \"this method of generation is really limited\". The FID table below measures ours.";

    public static string LatentScatterCaption(string what, int count) =>
        $"Two elements of the {what} of the {count} test digits, one colour per digit. The post plots two dimensions of the autoencoder's latents " +
        "(which two, it does not say) to show the digits in separate, non-Gaussian regions; it has no such plot for the VAE.";

    public static string LdaCaption(bool vae, LdaProjection projection, double accuracy, long[] latentShape)
    {
        string post = vae
            ? "The post's LDA of the VAE latents shows clouds that overlap more than the autoencoder's."
            : "The post's LDA of the autoencoder latents shows the ten digit clusters clearly separated.";
        return $"The {string.Join("×", latentShape.Skip(1))} latents{(vae ? " (means μ)" : "")} of the test digits projected on their first two " +
               $"linear discriminants (scikit-learn's LinearDiscriminantAnalysis(n_components=2), the post's call, reimplemented); the axes hold " +
               $"{Pct(projection.ExplainedVarianceRatio.Sum())} of the between-class variance, and {Pct(accuracy)} of the digits are nearest their " +
               $"own digit's centroid in this plane. {post}";
    }

    public static string VaeLossCaption(IReadOnlyList<EpochLog> history, double klWeight) =>
        $"Left: the loss per image, squared error plus {(klWeight == 1 ? "" : F(klWeight, 3) + " × ")}KL to N(0, I), train (mean over the epoch's batches, " +
        $"one ε per image) and validation (the test images, fresh ε); right: its two terms, train solid, validation dashed. {history.Count} logged " +
        $"epoch{(history.Count == 1 ? "" : "s")} (last: {history[^1].Epoch}). The post shows no VAE loss curve.";

    public static string VaeReconstructionCaption(int count, int seed, double sse, double aeSse) =>
        $"The same {count} test digits (top) and the VAE's reconstructions from one draw z = μ + σ·ε (seed {seed}), clipped (bottom); mean squared " +
        $"error per image {F(sse, 2)}, against {F(aeSse, 2)} for the autoencoder. The post's VAE reconstructions \"have less detail\" than the " +
        "autoencoder's; its 4th example \"could even be mistaken for a 3\".";

    public static string VaeSamplesCaption(int count, int seed) =>
        $"{count} decodes of z ~ N(0, I) (seed {seed}), clipped. The post's 4×8 grid of the same shows mostly recognisable, blurry digits, a " +
        "\"striking improvement\" over the autoencoder's samples, \"even though it's still far from perfect\". The FID table below measures ours.";

    public static string InterpolationCaption(int start, int end, int startLabel, int endLabel, int steps) =>
        $"Test images {start} (a {startLabel}) and {end} (a {endLabel}) at the ends; between them the decodes of (1 − α)·z₀ + α·z₁ for {steps} values " +
        "of α from 0 to 1, with the autoencoder's latents (top) and the VAE's means μ (bottom). The post has no such figure; it argues the " +
        "autoencoder's latent regions are \"disjoint and have discontinuities\", which a path between two digits crosses.";

    static string[] TimeRow(string model, IReadOnlyList<EpochLog> history)
    {
        EpochLog last = history[^1];
        string perEpoch = last.Epoch > 0 && double.IsFinite(last.Seconds) ? string.Create(Inv, $"{last.Seconds / last.Epoch:F1} s") : "";
        return [model, last.Epoch.ToString(Inv), Seconds(last.Seconds), perEpoch];
    }

    static string Seconds(double s) => double.IsFinite(s) ? string.Create(Inv, $"{s:F0} s ({s / 60:F1} min)") : "unknown";

    static string F(double value, int decimals) => value.ToString("F" + decimals, Inv);

    static string Pct(double value) => (100 * value).ToString("F1", Inv) + " %";
}
