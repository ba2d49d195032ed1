using LatentDiffusion.Experiments;

namespace LatentDiffusion.Server;

/// <summary>
/// One folder of generators the server offers, with the VAE that decodes their latents and the classifier that reads
/// their images: by default <see cref="ModelSet.VaeFile"/> and <see cref="ModelSet.ClassifierFile"/> in the folder, a
/// <see cref="ModelSet"/>'s layout (models/, models/fashion-mnist/, what <c>ldm pipeline --out runs/NAME</c> publishes),
/// every UNet in it offered. Served together, the first folder's model ids are their file names (models/ keeps its
/// ids), every further folder's are prefixed with its name (<see cref="Name"/>), e.g. <c>fashion-mnist/conditional</c>
/// for models/fashion-mnist/conditional.safetensors.
/// </summary>
public sealed record ServedFolder(string Directory, string VaePath, string ClassifierPath)
{
    /// <summary><paramref name="directory"/> with its own VAE and classifier unless others are given.</summary>
    public static ServedFolder In(string directory, string? vaePath = null, string? classifierPath = null) =>
        new(directory, vaePath ?? Path.Combine(directory, ModelSet.VaeFile), classifierPath ?? Path.Combine(directory, ModelSet.ClassifierFile));

    /// <summary>The folder's own name ("fashion-mnist" for runs/fashion-mnist/), whatever way it was written.</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(Directory)));

    /// <summary>What folder <paramref name="index"/> of several puts before its models' file names: nothing for the first, "NAME/" after.</summary>
    public string IdPrefix(int index) => index == 0 ? "" : Name + "/";

    /// <summary>
    /// Why <paramref name="folders"/> cannot be served together (null: they can): none, one folder given twice, or two
    /// later folders of the same name (their ids would clash).
    /// </summary>
    public static string? Problem(IReadOnlyList<ServedFolder> folders)
    {
        if (folders.Count == 0) return "no models folder given";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ServedFolder folder in folders)
            if (!seen.Add(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder.Directory))))
                return $"models folder {folder.Directory} is given twice";
        var names = new Dictionary<string, ServedFolder>(StringComparer.Ordinal);
        foreach (ServedFolder folder in folders.Skip(1))
        {
            if (names.TryGetValue(folder.Name, out ServedFolder? other))
                return $"models folders {other.Directory} and {folder.Directory} are both called '{folder.Name}', and a folder's name prefixes its model ids; rename or link one";
            names[folder.Name] = folder;
        }
        return null;
    }
}
