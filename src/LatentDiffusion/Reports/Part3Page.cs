using System.Globalization;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Metrics;
using LatentDiffusion.Training;

namespace LatentDiffusion.Reports;

/// <summary>
/// Part 3's index.html and report.md (composed once for both <see cref="Page"/> writers), and the figure captions:
/// each says what the post shows in its place and how ours compares. The post's own images are described, never copied.
/// </summary>
public static class Part3Page
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The FID table's rows in the post's order; other rows (e.g. the reconstruction floors) follow in the order given.</summary>
    static readonly string[] PostRowOrder = ["Random", "VAE", "Diffusion", "Validation"];

    public static void Write(Part3ReportInputs inputs, Part3ReportResult result) =>
        Page.WriteBoth(result.Directory, page => Compose(page, inputs, result));

    static void Compose(Page page, Part3ReportInputs inputs, Part3ReportResult result)
    {
        ReportFigure? Figure(string name) => result.Figures.FirstOrDefault(f => f.FileName == name);
        var data = inputs.Data;

        page.Title("Latent Diffusion Series, part 3: the latent diffusion model, reproduced");
        page.Paragraph($"Data {ReportPaths.Display(data.Directory)} ({data.Train.Count} training and {data.Test.Count} test images, padded to 32×32, in [0, 1]). " +
                       $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. The post's figures are described in the captions, not reproduced here.");

        page.Section("Model and sampling", [], () => page.Table(["", "ours", "post"], ModelRows(inputs, result)));

        page.Section("Forward process", Figure("forward_noising.png"), null);
        page.Section("Noise schedule", Figure("alpha_bar_schedule.png"), () => ScheduleTable(page, inputs.Config));

        page.Section("Training", Figure("loss.png"), inputs.History is { Count: > 0 } history ? () =>
        {
            EpochLog first = history[0], last = history[^1];
            page.Table(["", "ours", "post (read off its plot)"],
            [
                ["Logged epochs", $"{history.Count} (last: epoch {last.Epoch})", $"every {BlogPart3.LogEvery} from 0 to {BlogPart3.LossLastEpoch}"],
                ["First train loss", F(first.TrainLoss, 4), $"≈ {F(BlogPart3.TrainLossFirst, 4)}"],
                ["First validation loss", F(first.ValLoss, 4), $"≈ {F(BlogPart3.ValLossFirst, 4)}"],
                ["Final train loss", F(last.TrainLoss, 4), $"≈ {F(BlogPart3.TrainLossLast, 4)}"],
                ["Final validation loss", F(last.ValLoss, 4), $"≈ {F(BlogPart3.ValLossLast, 4)}"],
                ["Training time", Seconds(last.Seconds), "not stated"],
            ]);
            page.Paragraph("The losses are not comparable: the MSE of ε depends on the latent space (its channels, scale and how predictable " +
                           "the VAE makes them), and ours is not the post's.");
        } : null);

        page.Section("Generated digits", Figure("samples.png"), null);
        page.Section("Denoising trajectory", Figure("trajectory.png"), null);

        page.Section("What the classifier reads", Figure("census.png"), inputs.Census is { } census ? () =>
        {
            long total = census.Counts.Sum();
            page.Table(["digit", "generated", "share", "MNIST test share"],
            [
                .. Enumerable.Range(0, 10).Select(d => new[] { d.ToString(Inv), census.Counts[d].ToString(Inv), Pct(census.Fractions[d]), Pct(census.ReferenceFractions[d]) }),
                ["all", total.ToString(Inv), Pct(census.Fractions.Sum()), Pct(census.ReferenceFractions.Sum())],
            ]);
            page.Paragraph($"Total variation from MNIST's proportions {F(census.TotalVariation, 3)}; mean classifier confidence {Pct(census.MeanConfidence)}.");
        } : null);

        page.Section("FID", [], () => FidTable(page, inputs.FidRows));

        if (inputs.Memorisation is { } closest)
            page.Section("Memorisation: the closest pairs", Figure("memorisation.png"), () => page.Paragraph(MemorisationSummary(closest)));

        if (inputs.SamplerRows is { Count: > 0 } samplerRows)
        {
            page.Section("α-deblending digits", Figure("alpha_deblending_samples.png"), null);
            page.Section("Samplers", Figure("samplers.png"), () => SamplerTable(page, samplerRows));
        }

        if (result.Notes.Count > 0)
            page.Section("Notes", [], () => page.List(result.Notes));
    }

    /// <summary>The closest-pairs figure's caption: what each triple shows and how to read the distances.</summary>
    public static string MemorisationCaption(ClosestPairs closest) =>
        $"The {closest.Result.Closest.Count} of {closest.Generated.Count} {closest.Row} digits nearest to a training image in the classifier's features, " +
        "closest first, four triples a row: the generated digit (#index), its nearest training image in feature space (f: the feature distance) and its " +
        "nearest training image in pixel space (px: the RMS difference of the [0, 1] pixels; 0 would be a copy). A copying model shows pairs that match " +
        "stroke for stroke at a small px.";

    /// <summary>The memorisation numbers under the figure: the memorised share against the test set's own, and the medians.</summary>
    static string MemorisationSummary(ClosestPairs closest)
    {
        MemorisationResult m = closest.Result;
        double pixelMin = m.PixelDistance.Length > 0 ? MemorisationFigure.RmsPixel(m.PixelDistance.Min()) : double.NaN;
        return $"{Pct(m.MemorisedFraction)} of the {closest.Generated.Count} {closest.Row} digits lie nearer to a training image (in features) than " +
               $"{F(100 - m.Percentile, 0)} % of the real test digits do (τ = {F(m.Threshold, 3)}; the test digits themselves: {F(m.Percentile, 0)} % by construction). " +
               $"Median distance to the nearest training image: {F(m.MedianFeatureDistance, 3)} for the generated digits, {F(m.MedianHeldOutDistance, 3)} for the test digits. " +
               $"Smallest RMS pixel difference to any training image: {F(pixelMin, 3)}. Method: docs/metrics.md.";
    }

    static List<string[]> ModelRows(Part3ReportInputs inputs, Part3ReportResult result)
    {
        DiffusionConfig c = inputs.Config;
        int count = inputs.SampleCount ?? (int)inputs.Samples.Images.shape[0];
        string vaeCheck = (result.VaeSha256, c.VaeSha256) switch
        {
            (null, _) => "",
            (_, null) => " (the model records no VAE)",
            (var ours, var recorded) when string.Equals(ours, recorded, StringComparison.OrdinalIgnoreCase) => " (the VAE the model was trained on)",
            _ when result.VaeRelation == IO.VaeRelation.TunedDecoder => " (a decoder tuned from the VAE the model was trained on: its encoder and latents)",
            _ => " (NOT the VAE the model was trained on)",
        };
        string timing = inputs.SampleSeconds is { } s
            ? string.Create(Inv, $"{count} digits in {s:F0} s ({1000 * s / count:F1} ms each)")
            : $"{count} digits (time not measured)";
        return
        [
            ["Diffusion model", FileName(inputs.ModelPath), ""],
            ["SHA-256", result.ModelSha256 ?? "", ""],
            ["VAE (decoder)", FileName(inputs.VaePath), "part 2's VAE"],
            ["VAE SHA-256", (result.VaeSha256 ?? "") + vaeCheck, ""],
            ["UNet", inputs.UNetDescription ?? $"UNet, widths ({string.Join(", ", c.UNet.Widths)})", "not published (\"virtually identical\" to part 2's, with t in every block)"],
            ["Time embedding", $"sinusoidal, {c.UNet.EmbeddingDim}-d, scale {F(c.UNet.EmbeddingScale, 0)}", "sinusoidal, 16-d, scale 1000 (class defaults)"],
            ["Latents", $"{string.Join("×", c.LatentShape)}, scaled by {F(c.LatentScale, 4)}" + (c.LatentRange is { } r ? $" (|scaled z| ≤ {F(r, 2)} in training)" : ""), "C×4×4 (C not stated; 4 by inference), not scaled"],
            ["Noise schedule", $"linear, β from {Number(c.BetaStart)} to {Number(c.BetaEnd)}", "linear, β from 1e-4 to 0.02"],
            ["T", c.Steps.ToString(Inv), $"{BlogPart3.Steps} (not stated; the schedule's default and plot)"],
            ["Objective", "ε-prediction, MSE, t uniform in 1..T", "the same"],
            ["Sampling", $"DDPM ancestral, all {c.Steps} steps, σ² = β̃; x̂₀ {(inputs.ClipX0 ? "clipped to the latents' range" : "not clipped")}; seed {inputs.Seed}",
                "DDPM ancestral, all T steps, σ² = β̃, no clipping"],
            ["Samples", timing, "72 shown; time not stated"],
        ];
    }

    static string FileName(string? path) => path is null ? "(not from a file)" : ReportPaths.Display(path);

    static void ScheduleTable(Page page, DiffusionConfig config)
    {
        using NoiseSchedule linear = config.CreateSchedule(), cosine = NoiseSchedule.Cosine(config.Steps);
        int[] times = new[] { 1, config.Steps / 4, config.Steps / 2, 7 * config.Steps / 10, config.Steps }.Where(t => t >= 1).Distinct().ToArray();
        page.Table(["t", "linear ᾱ_t", "cosine ᾱ_t"], times.Select(t => new[] { t.ToString(Inv), Number(linear.Values[t - 1]), Number(cosine.Values[t - 1]) }).ToList());
    }

    static void SamplerTable(Page page, IReadOnlyList<SamplerRow> rows)
    {
        static string M(double? value) => value is double v ? F(v, 3) : "-";
        page.Table(["model", "sampler", "steps", "NFE", "weights", "FID preact", "FID flatten", "÷ Validation", "precision", "recall", "density", "coverage", "memorised", "seconds", "digits"],
            rows.Select(r => new[]
            {
                r.Model, r.Sampler, r.Steps.ToString(Inv), r.Evaluations.ToString(Inv), r.Ema ? "EMA" : "raw",
                F(r.FidPreact, 3) + (r.Seeds > 1 ? $" ({F(r.FidPreactRange.Min, 3)}–{F(r.FidPreactRange.Max, 3)}, {r.Seeds} seeds)" : ""), F(r.FidFlatten, 3), F(r.RatioToValidation, 2),
                M(r.Manifold?.Precision), M(r.Manifold?.Recall), M(r.Manifold?.Density), M(r.Manifold?.Coverage), M(r.MemorisedFraction),
                F(r.Seconds, 1), r.Count.ToString(Inv),
            }).ToList());
        SamplerRow best = rows.MinBy(r => r.RatioToValidation)!;
        page.Paragraph($"Best: {best.Label}, {F(best.RatioToValidation, 2)}× Validation. NFE = network evaluations per sample (Heun: 2S − 1). " +
                       "Precision and recall (k = 3), density and coverage (k = 5): the digits' k-NN manifold metrics against the training images " +
                       "in the same features; memorised: the share of the digits nearer to a training image than 99% of the test images are (docs/metrics.md). Seconds: generating and decoding the digits on this machine (batches of 1,000), not the FID. The follow-up post reports " +
                       $"\"about 3\" for α-deblending against 6 for DDPM ≈ {F(3 / BlogPart1.FidValidation, 0)}× and {F(BlogPart3.FidDiffusion / BlogPart1.FidValidation, 0)}× its Validation FID; its steps are not stated.");
    }

    public static string SamplersCaption(IReadOnlyList<SamplerRow> rows) =>
        $"FID of {rows[0].Count} digits (preact, as a multiple of the Validation FID) against network evaluations per sample, log-log: " +
        string.Join("; ", rows.GroupBy(r => r.Model).Select(g => $"{g.Key}: {string.Join(", ", g.Select(r => r.Sampler + (r.Ema ? "" : " raw")).Distinct())}")) +
        ". Solid lines: EMA weights; dashed: the raw weights of the same run.";

    static void FidTable(Page page, IReadOnlyList<GeneratorFidRow>? rows)
    {
        if (rows is not { Count: > 0 })
        {
            page.Paragraph($"Not computed in this run. The post reports FID {F(BlogPart1.FidRandom, 2)} for Random, {F(BlogPart2.FidVae, 2)} for the VAE, " +
                           $"{F(BlogPart3.FidDiffusion, 2)} for Diffusion and {F(BlogPart1.FidValidation, 2)} for Validation.");
            return;
        }
        var ordered = PostRowOrder.SelectMany(name => rows.Where(r => r.Name == name)).Concat(rows.Where(r => !PostRowOrder.Contains(r.Name))).ToList();
        static string M(double? value) => value is double v ? F(v, 3) : "-";
        page.Table(["row", "FID preact", "FID flatten", "÷ Random", "÷ Validation", "post FID", "post ÷ Validation", "precision", "recall", "density", "coverage", "memorised"],
            ordered.Select(r => new[]
            {
                r.Name, F(r.FidPreact, 2) + Part2Page.SeedRange(r), F(r.FidFlatten, 2), F(r.RatioToRandom, 4), F(r.RatioToValidation, 2),
                r.BlogFid is { } b ? F(b, 2) : "", r.BlogRatioToValidation is { } rv ? F(rv, 2) : "",
                M(r.Manifold?.Precision), M(r.Manifold?.Recall), M(r.Manifold?.Density), M(r.Manifold?.Coverage), M(r.MemorisedFraction),
            }).ToList());
        page.List(ordered.Select(r => $"{r.Name}: {ReportPaths.InText(r.Description)}").ToList());
        page.Paragraph("Every row against the training images; ratios use the preact FID. FID values depend on the classifier's weights, so compare " +
                       "the ratios: ours to our Random and Validation rows, the post's to its own. Preact: part 1's features (the third convolution " +
                       "before its ReLU, average-pooled); flatten: the 128 inputs of the last linear layer, the layer part 3 names. Our Diffusion row " +
                       "is decoded by a VAE of our own, not the post's; that VAE's reconstructions of the test set (a floor row, when given) show how " +
                       "close any sampler in its latent space can be expected to get. " + Part2Page.QualityNote + Part2Page.SeedsNote(rows));
    }

    public static string ForwardNoisingCaption(IReadOnlyList<int> indices, IReadOnlyList<int> times, NoiseSchedule schedule, long seed)
    {
        int last = times.Max();
        return $"The first test image of each digit (indices {string.Join(", ", indices)}), then x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε at t = " +
               $"{string.Join(", ", times.Where(t => t > 0))} with the {schedule.Name} schedule the model trains with (ᾱ_{last} = {Number(schedule.Values[last - 1])}), " +
               $"a fresh ε ~ N(0, I) per cell (seed {seed}), clipped to [0, 1] for display. The post's figure has the same layout, rows 0, 7, 5, 2 and " +
               "8 columns ending in pure noise, white on a transparent background; its draft code noised with x_t = (1 − φ)·x₀ + φ·ε, φ linear in t, " +
               "not with q(x_t | x₀), and its columns' t are not given.";
    }

    public static string ScheduleCaption(DiffusionConfig config, NoiseSchedule linear, NoiseSchedule cosine)
    {
        string ours = config.Steps >= 700
            ? $" Ours: linear ᾱ_700 = {Number(linear.Values[699])}, cosine ᾱ_500 = {Number(cosine.Values[499])}."
            : "";
        return $"ᾱ_t for t = 1..{config.Steps}: the linear schedule the model trains and samples with (β from {Number(config.BetaStart)} to {Number(config.BetaEnd)}; " +
               $"ᾱ_T = {Number(linear.Values[^1])}) and the post's cosine variant (which divides by T + 1 and does not clip β; ᾱ_T = {Number(cosine.Values[^1])}), " +
               "plotted but not used. The post's plot has the same two curves for T = 1000: linear reaches about 0 near t ≈ 700, cosine is about 0.5 " +
               $"at t ≈ 500.{ours} The post picks the linear one: \"for small problems like the MNIST, the linear schedule seems to be a bit better\".";
    }

    public static string LossCaption(IReadOnlyList<EpochLog> history) =>
        $"Mean squared error between ε and ε_θ(x_t, t), t uniform in 1..T: train (mean over the epoch's batches) and validation (the test latents, " +
        $"fresh t and ε), at {history.Count} logged epoch{(history.Count == 1 ? "" : "s")} (last: {history[^1].Epoch}); ours ends at " +
        $"{F(history[^1].TrainLoss, 4)} and {F(history[^1].ValLoss, 4)}. The post's plot (every {BlogPart3.LogEvery} epochs to {BlogPart3.LossLastEpoch}) " +
        $"falls from about {F(BlogPart3.TrainLossFirst, 4)} (train) and {F(BlogPart3.ValLossFirst, 3)} (validation, noisy) to about " +
        $"{F(BlogPart3.TrainLossLast, 3)} and {F(BlogPart3.ValLossLast, 4)}, all within {F(BlogPart3.LossLow, 3)}–{F(BlogPart3.LossHigh, 3)}. " +
        "Not comparable with ours: the loss depends on the latent space, and ours is another VAE's.";

    public static string SamplesCaption(int shown, int count, long seed) =>
        $"The first {shown} of our {count} samples (seed {seed}): each latent from x_T ~ N(0, I) through all T ancestral steps, decoded by the VAE and " +
        "clipped to [0, 1]; only generated digits. The post's 6 × 12 figure, said to show the 72 generated characters, holds 36 generated digits " +
        "(left half) and the first 36 MNIST test images (right half: 7 2 1 0 4 1 …, pixel-identical to its follow-up's figure). Of its samples the " +
        "post says \"most of the digits generated by our diffusion model look quite good, with a couple of exceptions\".";

    public static string TrajectoryCaption(int rows, IReadOnlyList<int> steps, int totalSteps) =>
        $"Each row follows one of the first {rows} samples from noise to digit: the VAE's decode of the latent x_t after {string.Join(", ", steps)} of the " +
        $"{totalSteps} steps (t = T − steps), clipped. Decoding treats x_t as a clean latent, so early columns are the decoder's reading of noise, " +
        "not noisy digits. The post has no such figure.";

    public static string CensusCaption(DigitCensus census) =>
        $"The classifier's label for each of the {census.Counts.Sum()} generated digits, as a share per digit, beside MNIST's test-set proportions. " +
        $"Total variation distance {F(census.TotalVariation, 3)} (0: the same proportions, 1: disjoint); mean top softmax probability " +
        $"{Pct(census.MeanConfidence)}, how sure the classifier is of its labels. A model that drops or favours digits shows here even when " +
        "its FID is low. The post has no such figure.";

    static string Seconds(double s) => double.IsFinite(s) ? string.Create(Inv, $"{s:F0} s ({s / 60:F1} min)") : "unknown";

    static string F(double value, int decimals) => value.ToString("F" + decimals, Inv);

    /// <summary>Four significant digits, in scientific notation below 0.001: 0.9999, 0.0786, 4.04e-5.</summary>
    public static string Number(double value) =>
        value != 0 && Math.Abs(value) < 1e-3 ? value.ToString("0.##e+0", Inv) : value.ToString("G4", Inv);

    static string Pct(double value) => (100 * value).ToString("F1", Inv) + " %";
}
