using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>One class of a labelled folder: its name (the folder's) and its image files, ordinal order.</summary>
public sealed record ClassFolder(string Name, string Path, IReadOnlyList<string> Files);

/// <summary>
/// The files of a labelled image folder in torchvision's ImageFolder layout, found without opening any:
/// <c>DIR/train/&lt;class&gt;/…</c> (and <c>DIR/test/&lt;class&gt;/…</c>), or <c>DIR/&lt;class&gt;/…</c>. Class names are
/// the folder names in ordinal order. A class folder is walked recursively, but a symbolic link to a folder is not
/// followed (counted instead), so a link loop cannot trap the walk. Files are images by name
/// (<see cref="ImageDecoder.Extensions"/>); other files and hidden ones are counted and ignored. Listing and sorting
/// are O(n log n) in the number of files.
/// </summary>
public sealed record ImageFolderListing(string Root, IReadOnlyList<ClassFolder> Train, IReadOnlyList<ClassFolder>? Test, int Ignored, int LinksNotFollowed)
{
    public const string TrainFolder = "train";
    public const string TestFolder = "test";

    /// <summary>Lists <paramref name="root"/>; every layout problem is a <see cref="DataFormatException"/> naming the folder.</summary>
    public static ImageFolderListing Read(string root)
    {
        if (!Directory.Exists(root)) throw new DataFormatException(root, "no such directory");
        var counts = new Counts();
        string train = Path.Combine(root, TrainFolder), test = Path.Combine(root, TestFolder);
        bool split = Directory.Exists(train) && !IsLink(train);
        IReadOnlyList<ClassFolder> trainClasses = Classes(split ? train : root, counts);
        IReadOnlyList<ClassFolder>? testClasses = null;
        if (split && Directory.Exists(test) && !IsLink(test))
        {
            testClasses = Classes(test, counts);
            var known = trainClasses.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            if (testClasses.FirstOrDefault(c => !known.Contains(c.Name)) is { } extra)
                throw new DataFormatException(extra.Path, $"class '{extra.Name}' is in {TestFolder}/ but not in {TrainFolder}/");
        }
        if (split) counts.Ignored += TopLevelFiles(root);
        return new ImageFolderListing(root, trainClasses, testClasses, counts.Ignored, counts.Links);
    }

    sealed class Counts
    {
        public int Ignored;
        public int Links;
    }

    static IReadOnlyList<ClassFolder> Classes(string folder, Counts counts)
    {
        var entries = new DirectoryInfo(folder).EnumerateFileSystemInfos().ToList();
        if (entries.Count == 0) throw new DataFormatException(folder, "the folder is empty; expected class folders of images (DIR/<class>/*.png, or DIR/train/<class>/… and DIR/test/<class>/…)");
        var classes = new List<ClassFolder>();
        foreach (FileSystemInfo entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (entry.Name.StartsWith('.')) { counts.Ignored++; continue; }
            if (entry is not DirectoryInfo dir) { counts.Ignored++; continue; }
            if (entry.LinkTarget is not null) { counts.Links++; continue; }
            List<string> files = Walk(dir.FullName, counts);
            if (files.Count == 0) throw new DataFormatException(dir.FullName, $"class folder '{dir.Name}' holds no images ({string.Join(", ", ImageDecoder.Extensions)})");
            files.Sort(StringComparer.Ordinal);
            classes.Add(new ClassFolder(dir.Name, dir.FullName, files));
        }
        if (classes.Count == 0)
            throw new DataFormatException(folder, "holds no class folders; expected DIR/<class>/*.png (or DIR/train/<class>/… and DIR/test/<class>/…)");
        if (classes.Count == 1)
            throw new DataFormatException(folder, $"holds one class folder ('{classes[0].Name}'); a labelled dataset needs at least two classes");
        return classes;
    }

    /// <summary>Every image file under <paramref name="folder"/>, not following links to folders; an explicit stack, no recursion.</summary>
    static List<string> Walk(string folder, Counts counts)
    {
        var files = new List<string>();
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0)
        {
            foreach (FileSystemInfo entry in new DirectoryInfo(pending.Pop()).EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith('.')) counts.Ignored++;
                else if (entry is DirectoryInfo sub)
                {
                    if (sub.LinkTarget is not null) counts.Links++;
                    else pending.Push(sub.FullName);
                }
                else if (ImageDecoder.HasImageExtension(entry.Name)) files.Add(entry.FullName);
                else counts.Ignored++;
            }
        }
        return files;
    }

    static int TopLevelFiles(string root) => new DirectoryInfo(root).EnumerateFiles().Count();

    static bool IsLink(string path) => new DirectoryInfo(path).LinkTarget is not null;
}
