using LatentDiffusion.IO;
using LatentDiffusion.Training;

namespace LatentDiffusion.Experiments;

/// <summary>
/// A folder of finished models laid out as the shipped <c>models/</c>: <c>NAME.safetensors</c> with
/// <c>NAME.config.json</c>, <c>NAME.history.csv</c>, <c>NAME.history.json</c> (and <c>NAME.raw.safetensors</c> for an
/// EMA model) beside it — what <c>ldm serve --models</c>, <c>ldm generate</c> and the reports read.
/// </summary>
public static class ModelSet
{
    /// <summary>The names <see cref="Pipeline"/> publishes under, one a stage.</summary>
    public const string Classifier = "classifier", LatentVae = "latent-vae", Conditional = "conditional";

    /// <summary>NAME.safetensors in <paramref name="directory"/>.</summary>
    public static string WeightsPath(string directory, string name) => Path.Combine(directory, name + ".safetensors");

    /// <summary>
    /// Publishes the finished run in <paramref name="run"/> as <paramref name="name"/> in <paramref name="directory"/>:
    /// each file copied atomically (<see cref="AtomicFile"/>), the weights last, so a reader that finds the weights finds
    /// the files beside them; a file already holding the same bytes is left alone. Returns the weights' path.
    /// </summary>
    public static string Publish(string run, string directory, string name)
    {
        var files = new List<(string From, string To)>
        {
            (RunDirectory.ConfigFileName, name + ".config.json"),
            (TrainingHistory.CsvName, name + ".history.csv"),
            (TrainingHistory.JsonName, name + ".history.json"),
        };
        if (File.Exists(Path.Combine(run, RunDirectory.RawModelFileName))) files.Add((RunDirectory.RawModelFileName, name + ".raw.safetensors"));
        files.Add((RunDirectory.ModelFileName, name + ".safetensors"));
        foreach (var (from, to) in files)
        {
            string source = Path.Combine(run, from);
            if (!File.Exists(source)) throw new DataFormatException(source, $"missing from the finished run in {run}");
            string target = Path.Combine(directory, to);
            byte[] bytes = File.ReadAllBytes(source);
            if (File.Exists(target) && new FileInfo(target).Length == bytes.Length && File.ReadAllBytes(target).AsSpan().SequenceEqual(bytes)) continue;
            AtomicFile.WriteAllBytes(target, bytes);
        }
        return WeightsPath(directory, name);
    }
}
