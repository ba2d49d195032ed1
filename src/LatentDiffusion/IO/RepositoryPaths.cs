namespace LatentDiffusion.IO;

/// <summary>Finds the repository's shipped files (data/mnist, models/) from wherever the program runs.</summary>
public static class RepositoryPaths
{
    /// <summary>
    /// The first existing <paramref name="relative"/> path found walking up from the current directory, then from
    /// the application's base directory; null when there is none.
    /// </summary>
    public static string? Find(string relative)
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
