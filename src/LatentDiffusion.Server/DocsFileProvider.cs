using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace LatentDiffusion.Server;

/// <summary>
/// The reports folder as served under /docs: a file is found only when its real path — every symbolic link on the way
/// followed — lies inside the folder's real path. A link inside docs/ to another report is served; one that leads out
/// of it (to a home directory, /etc) is not there.
/// </summary>
public sealed class DocsFileProvider : IFileProvider, IDisposable
{
    /// <summary>Links followed while resolving one path before it is given up as a loop (Linux's own limit).</summary>
    const int MaxLinks = 40;

    readonly PhysicalFileProvider files;
    readonly string root;

    public DocsFileProvider(string directory)
    {
        files = new PhysicalFileProvider(Path.GetFullPath(directory));
        root = RealPath(files.Root) ?? throw new DirectoryNotFoundException($"docs folder {directory} cannot be resolved");
    }

    public IFileInfo GetFileInfo(string subpath)
    {
        IFileInfo file = files.GetFileInfo(subpath);
        if (!file.Exists || file.PhysicalPath is not { } path) return file;
        if (RealPath(path) is not { } real || !IsInside(real)) return new NotFoundFileInfo(subpath);
        return real == path ? file : new PhysicalFileInfo(new FileInfo(real));              // a link's own length is not its target's
    }

    public IDirectoryContents GetDirectoryContents(string subpath) => files.GetDirectoryContents(subpath);

    public IChangeToken Watch(string filter) => files.Watch(filter);

    public void Dispose() => files.Dispose();

    bool IsInside(string path) =>
        path.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// <paramref name="path"/> with every symbolic link resolved, as realpath(3) gives it: walks the path a name at a
    /// time from the root, splicing each link's target in where the link was. Null for a loop of links.
    /// </summary>
    static string? RealPath(string path)
    {
        string full = Path.GetFullPath(path);                                               // the provider has refused ".." already
        string current = Path.GetPathRoot(full)!;
        var rest = new LinkedList<string>(Names(full[current.Length..]));
        int links = 0;
        while (rest.First is { } first)
        {
            string name = first.Value;
            rest.RemoveFirst();
            if (name == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Combine(current, name);
            if (new FileInfo(next).LinkTarget is { } target)
            {
                if (++links > MaxLinks) return null;
                // A relative target is relative to the link's folder; its ".." are walked, not simplified as text:
                // "a/../b" with a link a is not "b".
                if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target)!;
                foreach (string part in Names(Path.IsPathRooted(target) ? target[current.Length..] : target).Reverse()) rest.AddFirst(part);
                continue;
            }
            current = next;
        }
        return current;
    }

    static IEnumerable<string> Names(string relative) =>
        relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Where(n => n != ".");
}
