using System.Reflection;
using ScottPlot;
using SkiaSharp;

namespace LatentDiffusion.Reports;

/// <summary>
/// The one typeface every report figure uses: DejaVu Sans (regular and bold), embedded in this assembly.
/// SkiaSharp's NoDependencies native build has no fontconfig, so on a machine without installed fonts (a fresh
/// Debian container) <c>SKTypeface.Default</c> is empty and every title, label and tick would silently vanish.
/// Embedding the font makes text render everywhere and makes figures look the same on every machine.
/// </summary>
public static class ReportFonts
{
    /// <summary>The family name plots ask for; <see cref="Register"/> makes ScottPlot resolve it to the embedded files.</summary>
    public const string Family = "DejaVu Sans";

    const string RegularResource = "LatentDiffusion.Reports.Fonts.DejaVuSans.ttf";
    const string BoldResource = "LatentDiffusion.Reports.Fonts.DejaVuSans-Bold.ttf";

    static readonly Lazy<byte[]> RegularBytes = new(() => ReadResource(RegularResource));
    static readonly Lazy<byte[]> BoldBytes = new(() => ReadResource(BoldResource));
    static readonly Lock Gate = new();
    static bool registered;

    /// <summary>
    /// Adds the embedded-font resolver to ScottPlot and makes <see cref="Family"/> its default font. ScottPlot keeps
    /// fonts in process-wide state and reads <c>Fonts.Default</c> when a plot is constructed, so call this before
    /// creating plots. Idempotent and thread-safe.
    /// </summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (registered) return;
            Fonts.FontResolvers.Insert(0, new EmbeddedFontResolver());
            Fonts.Default = Family;
            Fonts.Sans = Family;
            registered = true;
        }
    }

    static readonly Lazy<SKTypeface> SharedRegular = new(() => CreateTypeface());
    static readonly Lazy<SKTypeface> SharedBold = new(() => CreateTypeface(bold: true));

    /// <summary>
    /// The process's one typeface of each weight, for figures drawn again and again (<see cref="ImageGrid"/>); never
    /// disposed. Skia's glyph cache keys what it keeps by typeface, so a new typeface for every figure leaves another
    /// copy of the font in that cache each time: a server drawing captioned grids grew by ~0.75 MB a grid.
    /// </summary>
    public static SKTypeface Shared(bool bold = false) => (bold ? SharedBold : SharedRegular).Value;

    /// <summary>A new typeface from the embedded file; the caller disposes it.</summary>
    public static SKTypeface CreateTypeface(bool bold = false)
    {
        using SKData data = SKData.CreateCopy(bold ? BoldBytes.Value : RegularBytes.Value);
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"the embedded {Family} font could not be decoded by SkiaSharp");
    }

    static byte[] ReadResource(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Answers ScottPlot's requests for <see cref="Family"/> (any slant and width; bold at weight ≥ 600).</summary>
    sealed class EmbeddedFontResolver : IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) =>
            string.Equals(fontName, Family, StringComparison.OrdinalIgnoreCase)
                ? ReportFonts.CreateTypeface(bold: weight >= FontWeight.SemiBold)
                : null;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            CreateTypeface(fontName, bold ? FontWeight.Bold : FontWeight.Normal, italic ? FontSlant.Italic : FontSlant.Upright, FontSpacing.Normal);
    }
}
