using System.Globalization;

namespace LatentDiffusion.Sampling;

/// <summary>
/// The largest number of digits one command may ask for, decided before anything is allocated. Generated digits stay
/// in memory until they are written: each holds its image (1×32×32 float32, 4 KiB) and latent (at most 8×4×4 float32,
/// 0.5 KiB), the float copy the writers and the classifier read (4 KiB) and, for an .npz, the float64 array (8 KiB):
/// <see cref="BytesPerDigit"/> rounds that up. A count may use at most half of the memory the system has available
/// (the rest is libtorch's working memory for a batch, and everything else on the machine).
/// </summary>
public static class CountLimit
{
    /// <summary>Memory one generated digit needs until it is written, rounded up.</summary>
    public const long BytesPerDigit = 20 * 1024;

    /// <summary>The memory available to new allocations: Linux's MemAvailable, else what the .NET GC may use.</summary>
    public static long AvailableBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
                    return Math.Min(kib * 1024, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);   // a container's limit may be lower
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>The most digits of <paramref name="bytesEach"/> bytes that fit in half of <paramref name="availableBytes"/>.</summary>
    public static int MaxCount(long availableBytes, long bytesEach = BytesPerDigit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesEach);
        return (int)Math.Clamp(availableBytes / 2 / bytesEach, 1, int.MaxValue);
    }

    /// <summary>
    /// Why <paramref name="count"/> digits (asked for by <paramref name="option"/>) cannot be made here, naming the largest
    /// count that can (null: they can).
    /// </summary>
    public static string? Problem(long count, string option, long? availableBytes = null, long bytesEach = BytesPerDigit)
    {
        if (count < 1) return $"{option} must be positive (got {count})";
        long available = availableBytes ?? AvailableBytes();
        int max = MaxCount(available, bytesEach);
        return count <= max ? null : string.Create(CultureInfo.InvariantCulture,
            $"{option} {count} is more than this machine can hold: at most {max:N0} ({bytesEach / 1024} KiB each in half of the {available / (1 << 20):N0} MiB available); split the work into several runs");
    }
}
