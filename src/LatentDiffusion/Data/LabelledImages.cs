using static TorchSharp.torch;

namespace LatentDiffusion.Data;

/// <summary>
/// One split of a dataset held as bytes: <see cref="Count"/> images of (<see cref="Channels"/>, <see cref="Side"/>,
/// <see cref="Side"/>) uint8, planar, with an int label each. The pixels live in chunks of at most 256 MiB (a single
/// .NET array stops at 2 GiB; 200k RGB images of 64 px are 2.5 GB), and a batch becomes float only when asked for:
/// <see cref="Inputs(Tensor)"/> gathers the rows, then x / 255 — the same float32 values, bit for bit, as converting
/// the whole set first and indexing it (the series' <c>ToTensor</c>).
/// </summary>
public sealed class LabelledImages
{
    const long ChunkBytes = 256L << 20;

    readonly List<byte[]> chunks = [];
    readonly List<int> labels;
    readonly int perChunk;
    byte[]? gatherBuffer;

    public LabelledImages(int channels, int side, int capacity = 0)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3 channels");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        Channels = channels;
        Side = side;
        perChunk = (int)Math.Max(1, ChunkBytes / ImageBytes);
        labels = new List<int>(capacity);
    }

    public int Channels { get; }
    public int Side { get; }
    public int ImageBytes => Channels * Side * Side;
    public int Count => labels.Count;
    public IReadOnlyList<int> Labels => labels;

    /// <summary>Bytes held (the pixels' chunks, as allocated).</summary>
    public long AllocatedBytes => chunks.Sum(c => (long)c.Length);

    /// <summary>Appends an image with <paramref name="label"/>; returns its pixels to fill, (C, S, S) planar.</summary>
    public Span<byte> Add(int label)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        int i = labels.Count;
        if (i / perChunk == chunks.Count)
        {
            // Chunks grow by doubling up to their full size, so a small set does not hold 256 MiB.
            int images = Math.Min(perChunk, Math.Max(64, i == 0 ? labels.Capacity : i));
            chunks.Add(new byte[(long)images * ImageBytes]);
        }
        byte[] chunk = chunks[i / perChunk];
        int offset = i % perChunk;
        if ((long)(offset + 1) * ImageBytes > chunk.LongLength)
        {
            Array.Resize(ref chunk, (int)Math.Min((long)perChunk * ImageBytes, 2L * chunk.LongLength));
            chunks[i / perChunk] = chunk;
        }
        labels.Add(label);
        return chunk.AsSpan(offset * ImageBytes, ImageBytes);
    }

    /// <summary>Drops the last image (one that could not be decoded after <see cref="Add"/>).</summary>
    public void RemoveLast() => labels.RemoveAt(labels.Count - 1);

    /// <summary>The pixels of image <paramref name="index"/>, (C, S, S) planar.</summary>
    public Span<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return chunks[index / perChunk].AsSpan(index % perChunk * ImageBytes, ImageBytes);
    }

    /// <summary>The images at <paramref name="indices"/> (B,) int64 → (B, C, S, S) float32 in [0, 1], on the indices' device.</summary>
    public Tensor Inputs(Tensor indices)
    {
        long[] rows = Rows(indices);
        return Gather(rows, indices.device);
    }

    /// <summary>Images start .. start + count − 1 → (count, C, S, S) float32 in [0, 1], on <paramref name="device"/> (default CPU).</summary>
    public Tensor Inputs(long start, long count, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count);
        long[] rows = new long[count];
        for (long i = 0; i < count; i++) rows[i] = start + i;
        return Gather(rows, device ?? CPU);
    }

    /// <summary>Every image as (N, C, S, S) float32: for small sets (evaluation, tests); training takes batches.</summary>
    public Tensor ToInputs() => Inputs(0, Count);

    /// <summary>The labels at <paramref name="indices"/> as (B,) int64 on the indices' device.</summary>
    public Tensor Targets(Tensor indices)
    {
        long[] rows = Rows(indices);
        long[] y = new long[rows.Length];
        for (int i = 0; i < rows.Length; i++) y[i] = labels[(int)rows[i]];
        return tensor(y, ScalarType.Int64).to(indices.device);
    }

    /// <summary>All labels as (N,) int64.</summary>
    public Tensor ToTargets() => tensor(labels.Select(l => (long)l).ToArray(), ScalarType.Int64);

    /// <summary>
    /// The same images with one channel: each RGB pixel's luminance (R = G = B = v gives v). For a gray set stored as
    /// RGB; this set's chunks are released as they are read (peak memory one chunk above the result), so it is empty after.
    /// </summary>
    public LabelledImages ToGray()
    {
        if (Channels == 1) return this;
        var gray = new LabelledImages(1, Side, Count);
        int plane = Side * Side;
        for (int i = 0; i < Count; i++)
        {
            ReadOnlySpan<byte> rgb = Image(i);
            Span<byte> g = gray.Add(labels[i]);
            for (int p = 0; p < plane; p++) g[p] = ImageDecoder.Luminance(rgb[p], rgb[plane + p], rgb[2 * plane + p]);
            if ((i + 1) % perChunk == 0) chunks[i / perChunk] = [];    // free the RGB chunk as soon as it is read
        }
        chunks.Clear();
        labels.Clear();
        return gray;
    }

    /// <summary>
    /// The images of an MNIST-layout split at <paramref name="side"/> px: 28x28 digits get the series' 2-px zero
    /// padding to 32x32 in the byte domain (so x / 255 is exactly the blog's /255-then-pad), then, at another side, the
    /// area rule of <see cref="SquareResize"/>; IDX images of another size take the area rule directly.
    /// </summary>
    public static LabelledImages FromIdx(MnistSplit split, int side = 32)
    {
        int rows = split.Images.Rows, cols = split.Images.Cols;
        var images = new LabelledImages(1, side, split.Count);
        bool padded = rows == 28 && cols == 28;
        int m = padded ? 32 : Math.Min(rows, cols);
        var square = new byte[m * m];
        for (int i = 0; i < split.Count; i++)
        {
            ReadOnlySpan<byte> digit = split.Images.Pixels.AsSpan(i * rows * cols, rows * cols);
            if (padded)
            {
                for (int y = 0; y < 28; y++) digit.Slice(y * 28, 28).CopyTo(square.AsSpan((y + Preprocess.Padding) * 32 + Preprocess.Padding, 28));
            }
            else
            {
                int x0 = (cols - m) / 2, y0 = (rows - m) / 2;
                for (int y = 0; y < m; y++) digit.Slice((y + y0) * cols + x0, m).CopyTo(square.AsSpan(y * m, m));
            }
            SquareResize.Area(square, m, side, images.Add(split.Labels[i]));
        }
        return images;
    }

    static long[] Rows(Tensor indices)
    {
        if (indices.dim() != 1) throw new ArgumentException("indices must be (B,)", nameof(indices));
        using var scope = NewDisposeScope();    // .cpu() of a CPU tensor is the tensor itself: never dispose it directly
        return indices.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
    }

    /// <summary>The rows' bytes gathered into a buffer kept between batches (one batch at a time: not thread-safe), then copied into a uint8 tensor.</summary>
    Tensor Gather(long[] rows, Device device)
    {
        long total = rows.LongLength * ImageBytes;
        if (gatherBuffer is null || gatherBuffer.LongLength < total) gatherBuffer = new byte[total];
        for (long i = 0; i < rows.LongLength; i++)
        {
            if (rows[i] < 0 || rows[i] >= Count) throw new ArgumentOutOfRangeException(nameof(rows), rows[i], $"index outside 0..{Count - 1}");
            Image((int)rows[i]).CopyTo(gatherBuffer.AsSpan((int)(i * ImageBytes), ImageBytes));
        }
        using var scope = NewDisposeScope();
        Tensor raw = empty([rows.LongLength, Channels, Side, Side], ScalarType.Byte);
        raw.bytes = gatherBuffer.AsSpan(0, (int)total);                                // a copy into the tensor's storage
        Tensor x = raw.to_type(ScalarType.Float32).div_(255.0);                 // (B, C, S, S) in [0, 1]
        if (device.type != TorchSharp.DeviceType.CPU) x = x.to(device);
        return x.MoveToOuterDisposeScope();
    }
}
