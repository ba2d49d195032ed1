namespace LatentDiffusion.IO;

/// <summary>Where a shipped file was found.</summary>
public enum ShippedOrigin
{
    /// <summary>In the source checkout the program was built in (<see cref="RepositoryPaths"/>): the live files.</summary>
    Repository,
    /// <summary>In the copy the build and publish place beside the program (models/, data/mnist/, docs/ next to ldm.dll).</summary>
    Installation,
    /// <summary>Nowhere; the path is where the installation's copy would be.</summary>
    Missing,
}

/// <summary>A shipped file or folder and where it was found.</summary>
public sealed record ShippedPath(string Path, ShippedOrigin Origin)
{
    /// <summary>"/…/models (the repository checkout)", for <c>ldm info</c>.</summary>
    public string Describe() => Origin switch
    {
        ShippedOrigin.Repository => $"{Path} (the repository checkout the tool was built in)",
        ShippedOrigin.Installation => $"{Path} (installed beside the tool)",
        _ => $"{Path} (missing: not in a repository checkout nor installed beside the tool)",
    };
}

/// <summary>
/// The files shipped with ldm — the trained weights in <c>models/</c>, MNIST in <c>data/mnist</c>, the reports in
/// <c>docs/</c> — found from
/// wherever it runs, whatever the working directory: first in the repository checkout the program runs from (a build
/// output), then in the copy every build and publish places beside the program (so a published or installed ldm carries
/// its own). Defaults never depend on the working directory.
/// </summary>
public static class ShippedFiles
{
    /// <summary>The shipped weights, histories and configs.</summary>
    public const string ModelsDirectory = "models";

    /// <summary>The four MNIST files.</summary>
    public const string DataDirectory = "data/mnist";

    /// <summary>The reports (part1–3 and the others), which <c>ldm serve</c> shows.</summary>
    public const string DocsDirectory = "docs";

    /// <summary>The shipped <paramref name="relative"/> path (e.g. <c>models/classifier.safetensors</c>) for this program.</summary>
    public static ShippedPath Locate(string relative) => Locate(relative, AppContext.BaseDirectory);

    /// <summary>The shipped <paramref name="relative"/> path for a program in <paramref name="baseDirectory"/>.</summary>
    public static ShippedPath Locate(string relative, string baseDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(relative);
        if (RepositoryPaths.FindRoot(baseDirectory) is { } root && Exists(Path.Combine(root, relative)))
            return new ShippedPath(Path.Combine(root, relative), ShippedOrigin.Repository);
        string installed = Path.Combine(baseDirectory, relative);
        return new ShippedPath(installed, Exists(installed) ? ShippedOrigin.Installation : ShippedOrigin.Missing);
    }

    /// <summary>The shipped ε-model of part 3 (DDPM), file name under models/.</summary>
    public const string DiffusionFile = "diffusion.safetensors";

    /// <summary>The shipped α-deblending model, file name under models/.</summary>
    public const string AlphaDeblendingFile = "alpha-deblending.safetensors";

    /// <summary>The shipped wide α-deblending model, UNet (64, 128), file name under models/.</summary>
    public const string WideAlphaDeblendingFile = "alpha-deblending-wide.safetensors";

    /// <summary>The distilled student of the wide α-deblending model (1, 2 or 4 steps).</summary>
    public const string StudentFile = "student.safetensors";

    /// <summary>The shipped class-conditional model, file name under models/.</summary>
    public const string ConditionalFile = "conditional.safetensors";

    /// <summary>A shipped model file, <c>models/<paramref name="file"/></c>.</summary>
    public static string Model(string file) => Locate(Path.Combine(ModelsDirectory, file)).Path;

    static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);
}
