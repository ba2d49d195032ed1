using System.Globalization;
using System.Text.Json;
using LatentDiffusion.Experiments;
using LatentDiffusion.IO;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>What a dataset's report wrote: its directory, the pages, the two grids and the numbers as JSON.</summary>
public sealed record DatasetReportFiles(string Directory, string IndexPath, string MarkdownPath, string GridPath, string RealPath, string JsonPath);

/// <summary>
/// The report of <see cref="DatasetReproduction"/>: the models (file, SHA-256, training seconds), the table, the
/// per-class readings, the guided samples as a grid (a row per class) beside the same layout of real test images,
/// and every number in results.json. Written into the report directory, each file atomically.
/// </summary>
public static class DatasetReportPage
{
    public const string GridName = "generated.png", RealName = "real.png", JsonName = "results.json";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static DatasetReportFiles Write(DatasetReproductionInputs inputs, DatasetReproductionResult result, Tensor grid, Tensor real)
    {
        string dir = inputs.ReportDirectory;
        Directory.CreateDirectory(dir);
        int columns = inputs.GridPerClass;
        string gridPath = Path.Combine(dir, GridName), realPath = Path.Combine(dir, RealName);
        ImageOutput.Write(grid, gridPath, columns);
        ImageOutput.Write(real, realPath, columns);
        var models = new[] { ("classifier", inputs.Models.ClassifierPath), ("latent VAE", inputs.Models.VaePath), ("generator", inputs.Models.GeneratorPath) }
            .Select(m => (What: m.Item1, Path: m.Item2, Sha: ModelWeights.Sha256(m.Item2), Seconds: TrainingHistory.Beside(m.Item2) is { Count: > 0 } h ? h[^1].Seconds : (double?)null))
            .ToList();
        string jsonPath = Path.Combine(dir, JsonName);
        AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(new
        {
            data = result.Data,
            models = models.Select(m => new { role = m.What, path = m.Path, sha256 = m.Sha, training_seconds = m.Seconds }),
            classifier_test_accuracy = result.ClassifierAccuracy,
            sampler = result.SamplerDescription,
            count = inputs.Count,
            seed = inputs.Seed,
            guidance = result.Guidance,
            sample_seconds = result.SampleSeconds,
            rows = result.Rows.Select(r => new
            {
                name = r.Name, description = r.Description, fid = r.Fid, ratio_to_validation = r.RatioToValidation,
                precision = r.Manifold?.Precision, recall = r.Manifold?.Recall, density = r.Manifold?.Density, coverage = r.Manifold?.Coverage,
                memorised_fraction = r.MemorisedFraction, warnings = r.Warnings,
            }),
            classes = result.Classes.Select(c => new { index = c.Class, name = c.Name, count = c.Count, generated_read_as_asked = c.Generated, real_read_as_labelled = c.Real }),
        }, Json) + "\n");

        string F(double v, string format = "F3") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);
        string P(double v) => double.IsNaN(v) ? "–" : (100 * v).ToString("F1", CultureInfo.InvariantCulture) + " %";
        string O(double? v) => v is double d ? F(d) : "–";
        Page.WriteBoth(dir, page =>
        {
            page.Title($"{result.Data.Name}: the series' table on another dataset");
            page.Paragraph($"Data: {result.Data.Describe()}, from {result.Data.Source}; split: {result.Data.Split}. " +
                           $"The classifier reads the test images with {P(result.ClassifierAccuracy)} accuracy; its features define this dataset's FID.");
            page.Table(["model", "file", "SHA-256", "training seconds"],
                models.Select(m => new[] { m.What, m.Path, m.Sha[..12], m.Seconds is double s ? s.ToString("F0", CultureInfo.InvariantCulture) : "–" }).ToList());
            page.Paragraph($"Every row against the {result.Data.Name} training images (preact features); " +
                           $"precision and recall with k = 3, density and coverage with k = 5, the memorised fraction against the test set's own 1st percentile " +
                           $"of nearest-training distances (docs/metrics.md). Seed {inputs.Seed}; sampling {result.SamplerDescription}; {result.SampleSeconds:F1} s for the unguided row.");
            page.Table(["row", "FID", "× Validation", "precision", "recall", "density", "coverage", "memorised", "what"],
                result.Rows.Select(r => new[]
                {
                    r.Name, F(r.Fid), r.RatioToValidation.ToString("F2", CultureInfo.InvariantCulture) + "x", O(r.Manifold?.Precision), O(r.Manifold?.Recall),
                    O(r.Manifold?.Density), O(r.Manifold?.Coverage), r.MemorisedFraction is double m ? P(m) : "–", r.Description,
                }).ToList());
            page.Paragraph("Each class asked of the generator (guided row): the share of its samples the classifier reads as that class, " +
                           "beside the share of that class's real test images it reads correctly.");
            page.Table(["class", "name", "samples", "generated read as asked", "real test images read as labelled", "difference (points)"],
                result.Classes.Select(c => new[]
                {
                    c.Class.ToString(CultureInfo.InvariantCulture), c.Name, c.Count.ToString(CultureInfo.InvariantCulture), P(c.Generated), P(c.Real),
                    double.IsNaN(c.Gap) ? "–" : (100 * c.Gap).ToString("+0.0;-0.0", CultureInfo.InvariantCulture),
                }).ToList());
            string rowsNamed = string.Join(", ", result.Data.ClassNames.Select((n, i) => $"{i} {n}"));
            page.Section("Generated, a row per class (guided)", Figure(GridName, gridPath, "generated", $"rows: {rowsNamed}"), null);
            page.Section("Real test images, the same layout", Figure(RealName, realPath, "real", $"the first {columns} test images of each class"), null);
        });
        return new DatasetReportFiles(dir, Path.Combine(dir, Page.IndexName), Path.Combine(dir, Page.MarkdownName), gridPath, realPath, jsonPath);
    }

    /// <summary>A written PNG as a report figure (its size read from the PNG header).</summary>
    static ReportFigure Figure(string name, string path, string title, string caption)
    {
        byte[] header = new byte[24];
        using (FileStream stream = File.OpenRead(path)) stream.ReadExactly(header);
        int width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(16)), height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(20));
        return new ReportFigure(name, title, caption, width, height, IsImageGrid: true);
    }
}
