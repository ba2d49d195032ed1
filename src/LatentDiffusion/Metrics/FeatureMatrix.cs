namespace LatentDiffusion.Metrics;

/// <summary>
/// N feature vectors of width D as one row-major float64 array (N·D), with a name for messages ("A", "B", a path).
/// What the nearest-neighbour metrics (<see cref="ManifoldMetrics"/>, <see cref="Memorisation"/>) read; checked once
/// here: the length matches N·D and every value is finite.
/// </summary>
public sealed class FeatureMatrix
{
    /// <param name="data">Row-major (rows, cols) values; kept, not copied.</param>
    /// <param name="name">How messages name this set.</param>
    public FeatureMatrix(double[] data, int rows, int cols, string name)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if ((long)rows * cols != data.LongLength)
            throw new ArgumentException($"{name}: {data.LongLength} values are not {rows} rows of {cols}", nameof(data));
        for (long i = 0; i < data.LongLength; i++)
            if (!double.IsFinite(data[i]))
                throw new ArgumentException($"{name}: feature {i % cols} of row {i / cols} is {data[i]}; features must be finite");   // no parameter name: the CLI prints the message as its one line
        Data = data;
        Rows = rows;
        Cols = cols;
        Name = name;
    }

    public double[] Data { get; }
    public int Rows { get; }
    public int Cols { get; }
    public string Name { get; }

    /// <summary>Row <paramref name="index"/> (D values).</summary>
    public ReadOnlySpan<double> Row(int index) => Data.AsSpan(index * Cols, Cols);

    /// <summary>Throws, naming both sets, unless <paramref name="other"/> has this set's width.</summary>
    public void RequireSameWidth(FeatureMatrix other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Cols != Cols)
            throw new ArgumentException($"{Name} has {Cols}-d features but {other.Name} has {other.Cols}-d; both sets need the same feature width");
    }

    /// <summary>Throws, naming the set and <paramref name="k"/>, unless it has at least k + 1 rows (a point and its k neighbours).</summary>
    public void RequireNeighbours(int k, string metric)
    {
        if (Rows < k + 1)
            throw new ArgumentException($"{Name} has {Rows} feature vector(s): {metric} with k = {k} needs at least k + 1 = {k + 1}");
    }
}
