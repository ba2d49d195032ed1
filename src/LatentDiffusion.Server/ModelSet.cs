namespace LatentDiffusion.Server;

/// <summary>
/// One folder of generators the server offers, with the VAE that decodes their latents and the classifier that reads
/// their images: by default <see cref="VaeFile"/> and <see cref="ClassifierFile"/> in the folder, as models/ and
/// <c>ldm pipeline --out runs/NAME</c> lay them out. Served together, the first set's model ids are their file names
/// (models/ keeps its ids), every further set's are prefixed with its folder's name (<see cref="Name"/>), e.g.
/// <c>fashion-mnist/conditional</c> for models/fashion-mnist/conditional.safetensors.
/// </summary>
public sealed record ModelSet(string Directory, string VaePath, string ClassifierPath)
{
    public const string VaeFile = "latent-vae.safetensors";
    public const string ClassifierFile = "classifier.safetensors";

    /// <summary>The set of <paramref name="directory"/> with its own VAE and classifier unless others are given.</summary>
    public static ModelSet In(string directory, string? vaePath = null, string? classifierPath = null) =>
        new(directory, vaePath ?? Path.Combine(directory, VaeFile), classifierPath ?? Path.Combine(directory, ClassifierFile));

    /// <summary>The folder's own name ("fashion-mnist" for runs/fashion-mnist/), whatever way it was written.</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(Directory)));

    /// <summary>What set <paramref name="index"/> of several puts before its models' file names: nothing for the first, "NAME/" after.</summary>
    public string IdPrefix(int index) => index == 0 ? "" : Name + "/";

    /// <summary>
    /// Why <paramref name="sets"/> cannot be served together (null: they can): none, one folder given twice, or two
    /// later folders of the same name (their ids would clash).
    /// </summary>
    public static string? Problem(IReadOnlyList<ModelSet> sets)
    {
        if (sets.Count == 0) return "no models folder given";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ModelSet set in sets)
            if (!seen.Add(Path.TrimEndingDirectorySeparator(Path.GetFullPath(set.Directory))))
                return $"models folder {set.Directory} is given twice";
        var names = new Dictionary<string, ModelSet>(StringComparer.Ordinal);
        foreach (ModelSet set in sets.Skip(1))
        {
            if (names.TryGetValue(set.Name, out ModelSet? other))
                return $"models folders {other.Directory} and {set.Directory} are both called '{set.Name}', and a folder's name prefixes its model ids; rename or link one";
            names[set.Name] = set;
        }
        return null;
    }
}
