namespace LatentDiffusion.Data;

/// <summary>
/// The rule that brings any image to the model's S x S: centre-crop to a square of the shorter side (the odd pixel,
/// if any, is dropped at the right or bottom), then area-resize to S — each output pixel is the mean of the source
/// area it covers, fractional pixels weighted by their overlap (OpenCV's INTER_AREA for shrinking; for enlarging
/// it is pixel replication, blended where an output pixel straddles two source pixels). A square image already S
/// wide is copied unchanged, byte for byte. Results are rounded half up to bytes.
/// </summary>
public static class SquareResize
{
    /// <summary>
    /// RGBA row-major (<paramref name="width"/> x <paramref name="height"/>) → planar (<paramref name="channels"/>, S, S)
    /// bytes in <paramref name="destination"/>: RGB, or with one channel the luminance (<see cref="ImageDecoder.Luminance"/>).
    /// Returns true when every pixel of the crop has R = G = B (a gray image, whatever the file's format).
    /// </summary>
    public static bool FromRgba(ReadOnlySpan<byte> rgba, int width, int height, int side, int channels, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3");
        if (destination.Length != channels * side * side) throw new ArgumentException("destination must hold channels·side² bytes", nameof(destination));
        int m = Math.Min(width, height);
        int x0 = (width - m) / 2, y0 = (height - m) / 2;

        // The crop as planar bytes (3, m, m) or (1, m, m), and whether it is gray.
        bool gray = true;
        byte[] crop = new byte[channels * m * m];
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++)
            {
                int p = 4 * ((y + y0) * width + x + x0);
                byte r = rgba[p], g = rgba[p + 1], b = rgba[p + 2];
                if (r != g || g != b) gray = false;
                int q = y * m + x;
                if (channels == 1) crop[q] = ImageDecoder.Luminance(r, g, b);
                else { crop[q] = r; crop[m * m + q] = g; crop[2 * m * m + q] = b; }
            }
        for (int c = 0; c < channels; c++)
            Area(crop.AsSpan(c * m * m, m * m), m, side, destination.Slice(c * side * side, side * side));
        return gray;
    }

    /// <summary>One plane m x m → S x S by area averaging (a copy when m = S).</summary>
    public static void Area(ReadOnlySpan<byte> source, int m, int side, Span<byte> destination)
    {
        if (m == side)
        {
            source.CopyTo(destination);
            return;
        }
        (int[] first, float[][] weights) = Weights(m, side);
        // Rows first: (m, m) → (m, S), then columns: (m, S) → (S, S).
        var rows = new float[m * side];
        for (int y = 0; y < m; y++)
            for (int o = 0; o < side; o++)
            {
                float sum = 0;
                float[] w = weights[o];
                for (int k = 0; k < w.Length; k++) sum += w[k] * source[y * m + first[o] + k];
                rows[y * side + o] = sum;
            }
        for (int o = 0; o < side; o++)
        {
            float[] w = weights[o];
            for (int x = 0; x < side; x++)
            {
                float sum = 0;
                for (int k = 0; k < w.Length; k++) sum += w[k] * rows[(first[o] + k) * side + x];
                destination[o * side + x] = (byte)Math.Clamp((int)(sum + 0.5f), 0, 255);
            }
        }
    }

    /// <summary>For each output index: the first source index it covers and the normalised overlaps of the sources from there.</summary>
    static (int[] First, float[][] Weights) Weights(int m, int side)
    {
        var first = new int[side];
        var weights = new float[side][];
        for (int o = 0; o < side; o++)
        {
            double a = (double)o * m / side, b = (double)(o + 1) * m / side;
            int i0 = (int)Math.Floor(a), i1 = Math.Min(m, (int)Math.Ceiling(b));
            first[o] = i0;
            var w = new float[i1 - i0];
            for (int i = i0; i < i1; i++) w[i - i0] = (float)((Math.Min(b, i + 1) - Math.Max(a, i)) / (b - a));
            weights[o] = w;
        }
        return (first, weights);
    }
}
