namespace LatentDiffusion.Metrics;

/// <summary>
/// A table row sampled at several seeds S, S + 1, …, S + K − 1 shows the mean of each number over the seeds and the
/// lowest and highest FID (a range, not a standard deviation: with 3 seeds a range says more than a deviation estimated
/// from 3 values). The rules every such table shares: the limit on K, and how the metrics beyond FID average (only when
/// every seed has them, so a mean never mixes part of the seeds).
/// </summary>
public static class SeedMeans
{
    /// <summary>The most sampling seeds a row may average (each one is a full row's sampling and scoring).</summary>
    public const int MaxSeeds = 10;

    /// <summary>Why <paramref name="seeds"/> is not a number of seeds (named as <paramref name="option"/>), or null when it is.</summary>
    public static string? Problem(int seeds, string option = "--seeds") =>
        seeds is < 1 or > MaxSeeds ? $"{option} must be between 1 and {MaxSeeds} (got {seeds})" : null;

    /// <summary>The mean of <paramref name="values"/>, or null when any is null.</summary>
    public static double? Mean(IEnumerable<double?> values)
    {
        var list = values.ToList();
        return list.Count > 0 && list.All(v => v is not null) ? list.Average(v => v!.Value) : null;
    }

    /// <summary>
    /// Precision, recall, density and coverage averaged over the seeds (the seconds summed), or null when any seed lacks
    /// them; the set sizes and k are the first seed's.
    /// </summary>
    public static ManifoldResult? Manifold(IReadOnlyList<ManifoldResult?> seeds)
    {
        if (seeds.Count == 0 || seeds.Any(m => m is null)) return null;
        return seeds[0]! with
        {
            Precision = seeds.Average(m => m!.Precision), Recall = seeds.Average(m => m!.Recall),
            Density = seeds.Average(m => m!.Density), Coverage = seeds.Average(m => m!.Coverage),
            Seconds = seeds.Sum(m => m!.Seconds),
        };
    }

    /// <summary>The lowest and highest of <paramref name="values"/>.</summary>
    public static (double Min, double Max) Range(IEnumerable<double> values)
    {
        var list = values.ToList();
        return (list.Min(), list.Max());
    }
}
