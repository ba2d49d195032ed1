namespace LatentDiffusion.IO;

/// <summary>
/// The source checkout the program runs from, when it does: a build output (bin/…) lies inside the repository, whose
/// root holds <see cref="Marker"/>. Published or installed copies run from elsewhere and have none
/// (<see cref="ShippedFiles"/> then finds the copies installed beside them).
/// </summary>
public static class RepositoryPaths
{
    /// <summary>The file that marks the repository root.</summary>
    public const string Marker = "LatentDiffusion.slnx";

    /// <summary>The repository root above the application's base directory, or null when it runs from outside a checkout.</summary>
    public static string? Root => FindRoot(AppContext.BaseDirectory);

    /// <summary>The nearest directory at or above <paramref name="start"/> holding <see cref="Marker"/>, or null.</summary>
    public static string? FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, Marker))) return dir.FullName;
        return null;
    }

    /// <summary>The existing file or folder <paramref name="relative"/> under the repository root, or null.</summary>
    public static string? Find(string relative) =>
        Root is { } root && Path.Combine(root, relative) is var path && (File.Exists(path) || Directory.Exists(path)) ? path : null;
}
