using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Training;

namespace LatentDiffusion.Experiments;

/// <summary>
/// A folder of one dataset's finished models laid out as the shipped <c>models/</c>: <c>NAME.safetensors</c> with
/// <c>NAME.config.json</c>, <c>NAME.history.csv</c>, <c>NAME.history.json</c> (and <c>NAME.raw.safetensors</c> for an
/// EMA model) beside it — the classifier (its FID's feature net), the latent VAE and the class-conditional generator.
/// models/fashion-mnist/ is one; <see cref="Pipeline"/> publishes one; <c>ldm serve --models</c>, <c>ldm generate</c>
/// and <c>ldm reproduce dataset</c> read them.
/// </summary>
public sealed record ModelSet(string Directory, string ClassifierPath, string VaePath, string GeneratorPath)
{
    /// <summary>The names <see cref="Pipeline"/> publishes under, one a stage.</summary>
    public const string Classifier = "classifier", LatentVae = "latent-vae", Conditional = "conditional";

    public const string ClassifierFile = Classifier + ".safetensors", VaeFile = LatentVae + ".safetensors", GeneratorFile = Conditional + ".safetensors";

    /// <summary>The set in <paramref name="directory"/>; a missing folder or file is one line naming it.</summary>
    public static ModelSet Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DataFormatException(directory, "no such model folder");
        string Require(string file)
        {
            string path = Path.Combine(directory, file);
            return File.Exists(path) ? path : throw new DataFormatException(directory, $"holds no {file} (a model set has {ClassifierFile}, {VaeFile} and {GeneratorFile})");
        }
        return new ModelSet(directory, Require(ClassifierFile), Require(VaeFile), Require(GeneratorFile));
    }

    /// <summary>The data the generator (else the classifier) records having been trained on; null when neither records it (MNIST's shipped models).</summary>
    public DatasetInfo? RecordedData => ModelFile.ReadData(GeneratorPath) ?? ModelFile.ReadData(ClassifierPath);

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
