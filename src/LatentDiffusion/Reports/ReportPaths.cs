using LatentDiffusion.IO;

namespace LatentDiffusion.Reports;

/// <summary>
/// How a report names the files and folders it was made from (weights, data): relative to the repository root when
/// they lie inside the repository, so that a shipped report names no machine's directories —
/// "models/vae.safetensors", not "/home/…/models/vae.safetensors". A path outside the repository, or any path when
/// there is no repository, is shown as given, and so is a relative path (it names no machine). The root is the
/// checkout the program runs from (<see cref="RepositoryPaths.Root"/>), else the one around the current directory.
/// </summary>
public static class ReportPaths
{
    /// <summary><paramref name="path"/> as a report shows it, against the default root.</summary>
    public static string Display(string path) => Display(path, DefaultRoot());

    /// <summary>
    /// An absolute <paramref name="path"/> relative to <paramref name="root"/>, with '/' separators, when it lies inside
    /// it; otherwise (or when <paramref name="path"/> is relative already) as given.
    /// </summary>
    public static string Display(string path, string? root)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (root is null || !Path.IsPathRooted(path)) return path;
        string relative = Path.GetRelativePath(Path.GetFullPath(root), Path.GetFullPath(path));
        bool outside = relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative);
        return outside ? path : Path.TrimEndingDirectorySeparator(relative).Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>
    /// Free text (a caller's description of a row, a note) with every path under the default root shown relative to it:
    /// the root and the separator after it are removed.
    /// </summary>
    public static string InText(string text) => InText(text, DefaultRoot());

    /// <summary><see cref="InText(string)"/> against <paramref name="root"/>.</summary>
    public static string InText(string text, string? root)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (root is null) return text;
        string prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        return text.Replace(prefix, "", StringComparison.Ordinal);
    }

    static string? DefaultRoot() => RepositoryPaths.Root ?? RepositoryPaths.FindRoot(Directory.GetCurrentDirectory());
}
