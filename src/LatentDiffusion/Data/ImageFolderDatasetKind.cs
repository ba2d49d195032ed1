using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>
/// A labelled image folder (<see cref="ImageFolderListing"/> for the layout), loaded as bytes at the model's side by
/// <see cref="SquareResize"/>'s rule. Channels: <see cref="DatasetOptions.Channels"/> when given, else 1 when every
/// image is gray (R = G = B at every pixel, whatever the file's format) and 3 otherwise, gray images then replicated
/// (counted). Without train/ and test/ folders, <see cref="DatasetOptions.HeldOutFraction"/> of each class (at least
/// one image of a class of two or more) is held out for testing by a shuffle seeded with
/// <see cref="DatasetOptions.SplitSeed"/>, recorded in <see cref="DatasetInfo.Split"/>. An image that cannot be read
/// fails the load naming it, or with <see cref="DatasetOptions.SkipBad"/> is skipped and counted. The content hash is
/// the SHA-256 over every kept file's path relative to the folder and its bytes, in load order.
/// </summary>
public sealed class ImageFolderDatasetKind : IDatasetKind
{
    public string Name => "image folder";

    public bool Accepts(string spec) => Directory.Exists(spec);

    public ImageDataset Load(string spec, DatasetOptions options, Action<string>? notice = null)
    {
        if (options.Problem() is { } problem) throw new ArgumentException(problem, nameof(options));
        ImageFolderListing listing = ImageFolderListing.Read(spec);
        string[] classNames = listing.Train.Select(c => c.Name).ToArray();
        var (trainFiles, testFiles, split) = Assign(listing, classNames, options);

        // Decoded as RGB unless gray is forced; a set that turns out all gray is reduced to one channel afterwards.
        int loadChannels = options.Channels ?? 3;
        int side = options.Resolution;
        var train = new LabelledImages(loadChannels, side, trainFiles.Count);
        var test = new LabelledImages(loadChannels, side, testFiles.Count);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var state = new LoadState(new byte[loadChannels * side * side]);
        Fill(train, trainFiles, listing.Root, options, hash, state);
        Fill(test, testFiles, listing.Root, options, hash, state);

        foreach (var (files, images, what) in new[] { (trainFiles, train, "training"), (testFiles, test, "test") })
        {
            var kept = images.Labels.ToHashSet();
            var missing = files.Select(f => f.Label).Distinct().Where(c => !kept.Contains(c)).Order().ToList();
            if (missing.Count > 0)
                throw new DataFormatException(listing.Root, $"every {what} image of class '{classNames[missing[0]]}' was skipped as unreadable");
        }
        if (train.Count == 0) throw new DataFormatException(listing.Root, "no readable training images");
        if (test.Count == 0) throw new DataFormatException(listing.Root, "no test images (a class needs two images for one to be held out)");

        int channels = loadChannels;
        int converted = 0;
        if (options.Channels is null && state.Gray == state.Kept)
        {
            train = train.ToGray();
            test = test.ToGray();
            channels = 1;
        }
        else if (loadChannels == 3) converted = state.Gray;

        var report = new DatasetReport(listing.Ignored, state.Skipped, converted, listing.LinksNotFollowed);
        var info = new DatasetInfo(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(spec))), Path.GetFullPath(spec), channels, side,
            classNames, Convert.ToHexStringLower(hash.GetHashAndReset()), split);
        notice?.Invoke($"{spec}: {train.Count} training and {test.Count} test images, {classNames.Length} classes, " +
                       $"{(channels == 1 ? "gray" : "RGB")} at {side}x{side}{(report.ToString() is { Length: > 0 } r ? "; " + r : "")}");
        return new ImageDataset(info, train, test, report);
    }

    /// <summary>
    /// The images directly in <paramref name="folder"/> (e.g. generated samples for an FID), unlabelled (label 0), by the
    /// same rule at <paramref name="channels"/> x <paramref name="side"/>, in ordinal name order; other files are ignored.
    /// </summary>
    public static LabelledImages ReadUnlabelled(string folder, int channels, int side, bool skipBad = false)
    {
        if (!Directory.Exists(folder)) throw new DataFormatException(folder, "no such directory");
        var files = Directory.EnumerateFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.') && ImageDecoder.HasImageExtension(f))
            .Order(StringComparer.Ordinal).Select(f => new LabelledFile(f, 0)).ToList();
        if (files.Count == 0) throw new DataFormatException(folder, "the folder holds no image files");
        var images = new LabelledImages(channels, side, files.Count);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Fill(images, files, folder, new DatasetOptions { SkipBad = skipBad }, hash, new LoadState(new byte[channels * side * side]));
        return images;
    }

    /// <summary>A file and its class index.</summary>
    readonly record struct LabelledFile(string Path, int Label);

    sealed class LoadState(byte[] scratch)
    {
        public byte[] Scratch { get; } = scratch;
        public byte[] Rgba { get; set; } = [];
        public int Kept, Gray, Skipped;
    }

    /// <summary>The files of each split in load order (class by class, ordinal within a class) and how they were split.</summary>
    static (List<LabelledFile> Train, List<LabelledFile> Test, string Split) Assign(ImageFolderListing listing, string[] classNames, DatasetOptions options)
    {
        var train = new List<LabelledFile>();
        var test = new List<LabelledFile>();
        if (listing.Test is { } testClasses)
        {
            for (int c = 0; c < listing.Train.Count; c++) train.AddRange(listing.Train[c].Files.Select(f => new LabelledFile(f, c)));
            foreach (ClassFolder folder in testClasses)
            {
                int c = Array.IndexOf(classNames, folder.Name);
                test.AddRange(folder.Files.Select(f => new LabelledFile(f, c)));
            }
            return (train, test, $"the {ImageFolderListing.TrainFolder}/ and {ImageFolderListing.TestFolder}/ folders");
        }
        var rng = new Random(options.SplitSeed);
        for (int c = 0; c < listing.Train.Count; c++)
        {
            IReadOnlyList<string> files = listing.Train[c].Files;
            int n = files.Count;
            int held = n < 2 ? 0 : Math.Clamp((int)Math.Round(n * options.HeldOutFraction), 1, n - 1);
            int[] order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            var isTest = new bool[n];
            for (int i = 0; i < held; i++) isTest[order[i]] = true;
            for (int i = 0; i < n; i++) (isTest[i] ? test : train).Add(new LabelledFile(files[i], c));
        }
        string fraction = options.HeldOutFraction.ToString("0.###", CultureInfo.InvariantCulture);
        return (train, test, $"held out: a fraction {fraction} of each class, shuffled with seed {options.SplitSeed}");
    }

    static void Fill(LabelledImages images, List<LabelledFile> files, string root, DatasetOptions options, IncrementalHash hash, LoadState state)
    {
        var lengths = new byte[16];
        foreach (LabelledFile file in files)
        {
            byte[] bytes;
            bool gray;
            try
            {
                bytes = ImageDecoder.ReadFile(file.Path);
                gray = Decode(file.Path, bytes, images.Channels, images.Side, state);
            }
            catch (DataFormatException) when (options.SkipBad)
            {
                state.Skipped++;
                continue;
            }
            state.Scratch.CopyTo(images.Add(file.Label));
            state.Kept++;
            if (gray) state.Gray++;
            byte[] name = Encoding.UTF8.GetBytes(Path.GetRelativePath(root, file.Path).Replace('\\', '/'));
            BinaryPrimitives.WriteInt64LittleEndian(lengths, name.Length);
            BinaryPrimitives.WriteInt64LittleEndian(lengths.AsSpan(8), bytes.Length);
            hash.AppendData(lengths);
            hash.AppendData(name);
            hash.AppendData(bytes);
        }
    }

    /// <summary>Decodes one file into the scratch image (C, S, S); true when it is gray.</summary>
    static bool Decode(string path, byte[] bytes, int channels, int side, LoadState state)
    {
        using ImageDecoder.OpenImage image = ImageDecoder.Open(path, bytes);
        int w = image.Header.Width, h = image.Header.Height;
        int needed = 4 * w * h;
        if (state.Rgba.Length < needed) state.Rgba = new byte[needed];
        image.DecodeRgba(state.Rgba);
        return SquareResize.FromRgba(state.Rgba.AsSpan(0, needed), w, h, side, channels, state.Scratch);
    }
}
