using LatentDiffusion.Metrics;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>What the report describes: a trained classifier, the data it was evaluated on, and its numbers.</summary>
/// <param name="Evaluation">The model's evaluation on <c>Data.Test</c>.</param>
public sealed record Part1ReportInputs(Classifier Model, MnistData Data, EvaluationResult Evaluation, ReportModelInfo ModelInfo)
{
    /// <summary>Logged epochs for loss.png; null or empty skips the figure with a note.</summary>
    public IReadOnlyList<EpochLog>? History { get; init; }

    /// <summary>MNIST-FID baselines for the report's table; null or empty says they were not computed.</summary>
    public IReadOnlyList<FidBaselineRow>? FidRows { get; init; }
}

/// <summary>What <see cref="Part1Report.Write"/> wrote, and the numbers it measured on the way.</summary>
/// <param name="Misclassified">Test images whose prediction differs from the label.</param>
/// <param name="Notes">Things the report skipped or could not check, also listed on the page.</param>
public sealed record Part1ReportResult(
    string Directory, IReadOnlyList<ReportFigure> Figures, IReadOnlyList<FeatureNormalityRow> Normality,
    NormalitySummary NormalitySummary, int Misclassified, IReadOnlyList<string> Notes)
{
    public string IndexPath => Path.Combine(Directory, Part1Report.IndexName);
    public string MarkdownPath => Path.Combine(Directory, Part1Report.MarkdownName);
    public string NormalityCsvPath => Path.Combine(Directory, FeatureNormality.CsvName);
}

/// <summary>
/// Reproduces the part-1 post as a report directory: sample digits, loss curves, mean activation maps of the pooling
/// layers, histograms of the FID features, confusion matrix, misclassified digits, a measured normality table of the
/// 128 FID features (normality.csv, ks_distances.png), and index.html / report.md putting the figures beside the
/// numbers and the blog's values. Every file goes through <see cref="AtomicFile"/>.
/// </summary>
public static class Part1Report
{
    public const string IndexName = Page.IndexName;
    public const string MarkdownName = Page.MarkdownName;

    /// <summary>
    /// Loads the weights, the data and (optionally) the history, evaluates on the test set and writes the report:
    /// the entry point of <c>ldm classifier report</c> and <c>ldm reproduce part1</c>.
    /// </summary>
    /// <param name="historyPath">history.json (or its directory); null for none.</param>
    /// <param name="computeFid">Compute the FID baseline table (a few seconds); false leaves it out with a note.</param>
    public static Part1ReportResult WriteFromFiles(
        string modelPath, string? historyPath, string dataDirectory, string outDirectory,
        bool computeFid = true, Part1ReportConfig? config = null, IProgress<string>? progress = null)
    {
        using var model = new Classifier();
        ModelWeights.Load(model, modelPath);
        model.eval();
        List<EpochLog>? history = historyPath is null ? null : TrainingHistory.Load(historyPath);
        progress?.Report($"loading {dataDirectory}");
        MnistData data = MnistDataset.Load(dataDirectory, notice: message => progress?.Report(message));
        progress?.Report("evaluating on the test set");
        EvaluationResult evaluation = ClassifierEvaluation.Evaluate(model, data.Test);
        double? seconds = history is { Count: > 0 } ? history[^1].Seconds : null;
        var info = new ReportModelInfo(modelPath, ModelWeights.Sha256(modelPath), model.ParameterCount(), seconds);
        IReadOnlyList<FidBaselineRow>? fidRows = null;
        if (computeFid)
        {
            progress?.Report("MNIST-FID baselines (Validation, Random)");
            fidRows = FidBaselines.Compute(model, data).Rows;
        }
        var inputs = new Part1ReportInputs(model, data, evaluation, info) { History = history, FidRows = fidRows };
        return Write(inputs, outDirectory, config, progress);
    }

    /// <summary>Writes every figure, normality.csv, index.html and report.md into <paramref name="outDirectory"/>.</summary>
    public static Part1ReportResult Write(Part1ReportInputs inputs, string outDirectory, Part1ReportConfig? config = null, IProgress<string>? progress = null)
    {
        config ??= new Part1ReportConfig();
        config.Validate();
        Directory.CreateDirectory(outDirectory);
        MnistSplit test = inputs.Data.Test;
        var figures = new FigureWriter(outDirectory);
        var notes = new List<string>();
        void Save(string name, RenderedFigure figure, string title, string caption, bool grid = false) => figures.Save(name, figure, title, caption, grid);

        progress?.Report("samples");
        Save("samples.png", DigitFigures.Samples(test, config.SamplesPerDigit, config.Seed, config.DigitScale),
            "Test samples", $"{config.SamplesPerDigit} random test images of each digit (seed {config.Seed}), as stored: white ink on black, upright.", grid: true);

        if (inputs.History is { Count: > 0 } history)
            Save("loss.png", LossCurve.Render(history, "Classifier cross-entropy loss per logged epoch", "cross-entropy loss", "validation (whole held-out set)",
                config.PlotWidth, config.PlotHeight),
                "Loss curves", $"Train and validation cross-entropy at the {history.Count} logged epoch{(history.Count == 1 ? "" : "s")} (last: epoch {history[^1].Epoch}).");
        else
            notes.Add("No training history was given, so loss.png was not drawn (pass --history FILE).");

        using Tensor x = test.ToInputs();                               // (N, 1, 32, 32)
        using Tensor y = test.ToTargets();                              // (N,)
        foreach (int layer in Classifier.PoolingLayers)
        {
            progress?.Report($"activation maps of layer {layer}");
            ActivationMaps maps = ActivationMaps.Compute(inputs.Model, x, y, layer, config.BatchSize);
            string layerName = inputs.Model.Layers[layer].GetType().Name;
            Save($"activations_layer{layer}.png", DigitFigures.Activations(maps, layerName, config.ActivationCellTarget),
                $"Activations after layer {layer} ({layerName})",
                $"Mean {maps.Channels}×{maps.Height}×{maps.Width} output of layer {layer} over each digit's test images; one row per digit, one column per channel." +
                ConstantChannelsNote(maps), grid: true);
        }

        progress?.Report("FID features and predictions");
        (Tensor features, int[] predictions) = FeaturesAndPredictions(inputs.Model, x, config.BatchSize);
        IReadOnlyList<FeatureNormalityRow> normality;
        double[][] columns;
        using (features)
        {
            normality = FeatureNormality.Measure(features);
            int shown = Math.Min(config.HistogramFeatures, (int)features.shape[1]);
            using Tensor first = features.narrow(1, 0, shown).t().contiguous();   // (shown, N)
            double[] flat = first.data<double>().ToArray();
            columns = Enumerable.Range(0, shown).Select(f => flat.AsSpan(f * test.Count, test.Count).ToArray()).ToArray();
        }
        NormalitySummary summary = FeatureNormality.Summarize(normality, test.Count, config.SkewThreshold, config.KurtosisThreshold);
        FeatureNormality.WriteCsv(Path.Combine(outDirectory, FeatureNormality.CsvName), normality);

        Save("feature_histograms.png",
            Part1Figures.FeatureHistograms(columns, normality, gridColumns: 4, config.HistogramBins, config.HistogramCellWidth, config.HistogramCellHeight,
                string.Create(CultureInfo.InvariantCulture, $"FID features 0-{columns.Length - 1} of {Classifier.FeatureDim} over {test.Count} test images ({config.HistogramBins} bins; red: fitted normal)")),
            "FID feature histograms",
            $"The first {columns.Length} of the {Classifier.FeatureDim} features (third conv before its ReLU, 4×4 average pool) with the normal of the same mean and variance.");

        Save("confusion.png", Part1Figures.Confusion(inputs.Evaluation.Confusion, config.ConfusionSize, config.ConfusionSize),
            "Confusion matrix", "Rows: true digit; columns: predicted digit; every cell holds its count.");

        int wrong = predictions.Where((p, i) => p != test.Labels[i]).Count();
        if (wrong != inputs.Evaluation.Count - inputs.Evaluation.Correct)
            notes.Add($"The report's own pass found {wrong} misclassified test images, the evaluation {inputs.Evaluation.Count - inputs.Evaluation.Correct}: was the evaluation run on other data?");
        RenderedFigure? misclassified = DigitFigures.Misclassified(test, predictions, config.MaxMisclassified, config.MisclassifiedPerRow, config.DigitScale);
        if (misclassified is not null)
            Save("misclassified.png", misclassified, "Misclassified digits",
                $"{Math.Min(wrong, config.MaxMisclassified)} of the {wrong} misclassified test images, captioned true → predicted.", grid: true);
        else
            notes.Add("No test image is misclassified, so misclassified.png was not drawn.");

        Save("ks_distances.png", Part1Figures.KsHistogram(normality.Select(r => r.KsDistance).ToList(), summary, config.PlotWidth, config.PlotHeight),
            "KS distances", "Kolmogorov–Smirnov distance of each of the 128 features to the normal fitted to it; right of the red line, normality is rejected at 5 %.");

        if (inputs.FidRows is not { Count: > 0 })
            notes.Add("No FID baselines were given (ldm reproduce part1 computes them).");

        var result = new Part1ReportResult(outDirectory, figures.Figures, normality, summary, wrong, notes);
        progress?.Report("index.html and report.md");
        Part1Page.Write(inputs, result);
        return result;
    }

    /// <summary>
    /// The 128 PreAct FID features (N, 128) float64 and the predicted labels of every input, in eval mode under
    /// no_grad, batch by batch. The model's train/eval mode is restored afterwards.
    /// </summary>
    internal static (Tensor Features, int[] Predictions) FeaturesAndPredictions(Classifier model, Tensor inputs, int batchSize)
    {
        long n = inputs.shape[0];
        using var eval = EvalMode.Of(model);
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var parts = new List<Tensor>();
        var predictions = new int[n];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - start);
            Tensor batch = inputs.narrow(0, start, len);
            (Tensor logits, Tensor features) = model.LogitsAndFeatures(batch);                           // (B, 10), (B, 128)
            parts.Add(features.to_type(ScalarType.Float64).MoveToOuterDisposeScope());
            long[] predicted = logits.argmax(1).data<long>().ToArray();                                  // (B,)
            for (int i = 0; i < predicted.Length; i++) predictions[start + i] = (int)predicted[i];
        }
        return (cat(parts, 0).MoveToOuterDisposeScope(), predictions);
    }

    /// <summary>A sentence naming the channels without range (drawn black), or "" when every channel varies.</summary>
    static string ConstantChannelsNote(ActivationMaps maps)
    {
        IReadOnlyList<int> constant = maps.ConstantChannels();
        if (constant.Count == 0) return "";
        string which = constant.Count == 1 ? $"Channel {constant[0]} has" : $"Channels {string.Join(", ", constant)} have";
        return $" {which} the same mean at every position for every digit (after a ReLU: a channel that never fires), so it shows black.";
    }
}
