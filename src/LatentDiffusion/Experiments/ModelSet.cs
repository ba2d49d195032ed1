using LatentDiffusion.Data;
using LatentDiffusion.IO;

namespace LatentDiffusion.Experiments;

/// <summary>
/// A folder of one dataset's models in the layout of the shipped models/: <c>classifier.safetensors</c> (its FID's
/// feature net), <c>latent-vae.safetensors</c> and the class-conditional generator <c>conditional.safetensors</c>, each
/// with its config and history beside it. models/fashion-mnist/ is one; <c>ldm pipeline</c> publishes one.
/// </summary>
public sealed record ModelSet(string Directory, string ClassifierPath, string VaePath, string GeneratorPath)
{
    public const string ClassifierFile = "classifier.safetensors", VaeFile = "latent-vae.safetensors", GeneratorFile = "conditional.safetensors";

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
}
