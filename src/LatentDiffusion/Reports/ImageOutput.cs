using System.Globalization;
using LatentDiffusion.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// Writes generated images (N, 1, 32, 32) in [0, 1] where the user asks: a folder of 28x28 PNGs (the 2-pixel padding
/// cropped, as MNIST's own size; <c>ldm fid</c> reads such a folder), one grid PNG, or an <c>.npz</c> with the raw
/// float array (key <c>images</c>). Any other data's images, of any shape, are written whole (<see cref="ImageTiles"/>):
/// an image folder is read at its files' size, so a 28x28 crop of another dataset's 32x32 images would be resized,
/// not padded, and score as other images. Nothing partial is left behind: files go through <see cref="AtomicFile"/>, and a
/// folder is filled under a temporary name and renamed when complete.
/// </summary>
public static class ImageOutput
{
    /// <summary>Which kind of output <paramref name="path"/> asks for: ".png" a grid, ".npz" the array, anything else a folder.</summary>
    public static string Kind(string path) =>
        path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? "grid" :
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? "npz" : "folder";

    /// <summary>
    /// Most rows or columns of digits in a grid PNG: 256 cells of 58 px make a side of ~15,000 px, within what SkiaSharp
    /// draws and image viewers open.
    /// </summary>
    public const int MaxGridCells = 256;

    /// <summary>
    /// Why <paramref name="count"/> digits cannot be written to <paramref name="path"/> whatever is on disk (null: they
    /// can), found before sampling: more than this machine can hold (<see cref="Sampling.CountLimit"/>, named as
    /// <paramref name="countOption"/>) or a grid too large to draw (named as <paramref name="pathOption"/>).
    /// <paramref name="gridColumns"/> as for <see cref="Write"/>.
    /// </summary>
    public static string? CountProblem(string path, long count, string countOption = "-n", string pathOption = "--out", int? gridColumns = null)
    {
        if (Sampling.CountLimit.Problem(count, countOption) is { } tooMany) return tooMany;
        if (Kind(path) == "grid")
        {
            long columns = gridColumns ?? DigitGrid.DefaultColumns((int)count);
            long rows = (count + columns - 1) / columns;
            if (rows > MaxGridCells || columns > MaxGridCells)
                return $"{pathOption} {path}: a grid PNG holds at most {MaxGridCells} rows and {MaxGridCells} columns of digits (this one would be {rows} x {columns}); write a folder or an .npz for more";
        }
        return null;
    }

    /// <summary>Why <paramref name="path"/> cannot be written now (named as <paramref name="pathOption"/>; null: it can): <see cref="AtomicFile.WriteProblem"/> for this kind of output.</summary>
    public static string? WriteProblem(string path, string pathOption = "--out") =>
        AtomicFile.WriteProblem(path, folder: Kind(path) == "folder") is { } problem ? $"{pathOption} {problem}" : null;

    /// <summary>Whether a model trained on <paramref name="data"/> (null: it records none, as MNIST's shipped models) makes MNIST's digits, written in MNIST's layout.</summary>
    public static bool IsMnistLayout(Data.DatasetInfo? data) => data is null || data.Name == Data.KnownDatasets.Mnist.Name;

    /// <summary>
    /// Writes <paramref name="images"/> to <paramref name="path"/>; returns a description of what was written.
    /// <paramref name="mnistLayout"/>: the images are MNIST's digits (<see cref="IsMnistLayout"/>); otherwise written whole.
    /// </summary>
    public static string Write(Tensor images, string path, int? gridColumns = null, bool mnistLayout = true)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() == 4 && images.shape[1] is 1 or 3 && images.shape[2] == images.shape[3] && (!mnistLayout || !(images.shape[1] == 1 && images.shape[2] == 32)))
            return ImageTiles.Write(images, path, gridColumns);   // another dataset's images: uncropped, gray or RGB
        if (images.dim() != 4 || images.shape[1] != 1 || images.shape[2] != 32 || images.shape[3] != 32)
            throw new ArgumentException($"expected (N, 1, 32, 32) images, got [{string.Join(", ", images.shape)}]");
        int n = (int)images.shape[0];
        switch (Kind(path))
        {
            case "grid":
                RenderedFigure grid = DigitGrid.Render(images, gridColumns);
                AtomicFile.WriteAllBytes(path, grid.Png);
                int columns = gridColumns ?? DigitGrid.DefaultColumns(n);
                return $"a {(n + columns - 1) / columns}x{columns} grid of {n} digits";
            case "npz":
                float[] values = DigitGrid.Values(images);
                Npz.Save(path, new Dictionary<string, NpyArray> { ["images"] = new([n, 1, 32, 32], values.Select(v => (double)v).ToArray()) });
                return $"{n} images as a float64 array (N, 1, 32, 32), key 'images'";
            default:
                WriteFolder(DigitGrid.Values(images), n, path);
                return $"{n} PNGs of 28x28";
        }
    }

    static void WriteFolder(float[] values, int n, string path)
    {
        int digits = Math.Max(5, n.ToString(CultureInfo.InvariantCulture).Length);
        AtomicFile.WriteDirectory(path, add =>
        {
            for (int i = 0; i < n; i++)
            {
                GrayImage image = DigitGrid.Crop(values, i);
                using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
                System.Runtime.InteropServices.Marshal.Copy(image.Pixels, 0, bitmap.GetPixels(), image.Pixels.Length);
                using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                add(i.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png", png.ToArray());
            }
        });
    }
}
