using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// One tile of a distance matrix: squared Euclidean distances between rows <see cref="RowStart"/>..+<see cref="Rows"/>
/// of X and rows <see cref="ColStart"/>..+<see cref="Cols"/> of Y, row-major in <see cref="Values"/> (a buffer the
/// next tile reuses: read it inside the visit, do not keep it).
/// </summary>
public sealed record DistanceTile(int RowStart, int ColStart, int Rows, int Cols, double[] Values)
{
    /// <summary>The tile's row <paramref name="row"/> (0-based inside the tile): Cols squared distances.</summary>
    public ReadOnlySpan<double> Row(int row) => Values.AsSpan(row * Cols, Cols);
}

/// <summary>
/// The N x M matrix of Euclidean distances between two sets of vectors, never held whole: it is computed and handed
/// out one tile of at most <see cref="TileRows"/> x <see cref="TileCols"/> float64 at a time, so memory is the two
/// inputs plus O(TileRows·TileCols) whatever N and M are (8 MiB of tile, plus libtorch's product of the same size, at
/// the defaults).
/// Each tile is ‖x‖² + ‖y‖² − 2·x·yᵀ in float64 (one matrix product, as scikit-learn's <c>euclidean_distances</c>
/// computes it), clamped at 0; where X and Y are the same set the diagonal is set to exactly 0, as scikit-learn does.
/// Values are squared distances: comparisons between them order the distances the same way without a square root.
/// </summary>
public sealed class PairwiseDistances
{
    public const int DefaultTileRows = 512, DefaultTileCols = 2048;

    public PairwiseDistances(int tileRows = DefaultTileRows, int tileCols = DefaultTileCols)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tileRows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tileCols);
        TileRows = tileRows;
        TileCols = tileCols;
    }

    public int TileRows { get; }
    public int TileCols { get; }

    /// <summary>The bound on the tile buffer, in bytes (the inputs come on top).</summary>
    public long TileBytes => (long)TileRows * TileCols * sizeof(double);

    /// <summary>
    /// Visits every tile of the distance matrix between the rows of <paramref name="x"/> (N, D) and
    /// <paramref name="y"/> (M, D), row blocks outer, column blocks inner. The inputs may be any real dtype (uint8
    /// pixels, float64 features); each block is converted to float64 when it is used, so an integer input stays
    /// small in memory and its distances are exact (integer sums below 2⁵³). <paramref name="sameSet"/>: X and Y are
    /// the same vectors, and d(i, i) is set to 0.
    /// </summary>
    public void ForEachTile(Tensor x, Tensor y, bool sameSet, Action<DistanceTile> visit)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(visit);
        if (x.dim() != 2 || y.dim() != 2 || x.shape[1] != y.shape[1])
            throw new ArgumentException($"expected X (N, D) and Y (M, D), got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}]");
        if (sameSet && x.shape[0] != y.shape[0]) throw new ArgumentException("sameSet needs X and Y of the same length");
        int n = checked((int)x.shape[0]), m = checked((int)y.shape[0]);
        var buffer = new double[Math.Min(TileRows, Math.Max(n, 1)) * Math.Min(TileCols, Math.Max(m, 1))];
        using var noGrad = no_grad();
        for (int r0 = 0; r0 < n; r0 += TileRows)
        {
            int rows = Math.Min(TileRows, n - r0);
            using var rowScope = NewDisposeScope();
            Tensor xb = x.narrow(0, r0, rows).to_type(ScalarType.Float64).contiguous();   // (rows, D)
            double[] xNorm = xb.square().sum(1).data<double>().ToArray();                 // (rows,)
            for (int c0 = 0; c0 < m; c0 += TileCols)
            {
                int cols = Math.Min(TileCols, m - c0);
                using var tileScope = NewDisposeScope();
                Tensor yb = y.narrow(0, c0, cols).to_type(ScalarType.Float64).contiguous();   // (cols, D)
                double[] yNorm = yb.square().sum(1).data<double>().ToArray();                 // (cols,)
                Tensor dot = mm(xb, yb.t());                                                  // (rows, cols) x·yᵀ
                // ‖x‖² + ‖y‖² − 2·x·y, clamped at 0, in one pass over the product (no elementwise temporaries).
                Tensor dotRows = dot;
                Parallel.For(0, rows, i =>
                {
                    ReadOnlySpan<double> d = MemoryMarshal.Cast<byte, double>(dotRows.bytes).Slice(i * cols, cols);
                    Span<double> row = buffer.AsSpan(i * cols, cols);
                    double xi = xNorm[i];
                    for (int j = 0; j < cols; j++) row[j] = Math.Max(xi + yNorm[j] - 2.0 * d[j], 0.0);
                });
                if (sameSet)
                    for (int i = Math.Max(r0, c0); i < Math.Min(r0 + rows, c0 + cols); i++)
                        buffer[(i - r0) * cols + (i - c0)] = 0.0;
                visit(new DistanceTile(r0, c0, rows, cols, buffer));
            }
        }
    }

    /// <summary>
    /// For each row of <paramref name="x"/> (N, D), the squared distance to its k-th nearest neighbour in the same set,
    /// the point itself not counted: the (k+1)-th smallest of its row, self-distance 0 included (the k-NN radius of
    /// Kynkäänniemi et al. 2019, §2, and of <c>compute_nearest_neighbour_distances</c> in Naeem et al.'s prdc code).
    /// One entry per k of <paramref name="ks"/>: radii[j][i] for ks[j].
    /// </summary>
    public double[][] KthNeighbourSquared(Tensor x, IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(ks);
        int n = checked((int)x.shape[0]);
        int kMax = ks.Max();
        foreach (int k in ks) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (n < kMax + 1) throw new ArgumentException($"{n} vector(s): the k = {kMax} nearest neighbours need at least {kMax + 1}");
        // The kMax + 1 smallest of each row so far, ascending: kept across the column tiles.
        var smallest = new double[n * (kMax + 1)];
        Array.Fill(smallest, double.PositiveInfinity);
        // Every tile, read along its rows only (sequential memory): reading the tiles above the diagonal along their
        // columns as well would halve the products but stride through memory (see docs/metrics.md, Timing).
        ForEachTile(x, x, sameSet: true, tile => Parallel.For(0, tile.Rows, i =>
        {
            Span<double> best = smallest.AsSpan((tile.RowStart + i) * (kMax + 1), kMax + 1);
            foreach (double d in tile.Row(i))
                if (d < best[kMax]) Insert(best, d);
        }));
        return ks.Select(k => Enumerable.Range(0, n).Select(i => smallest[i * (kMax + 1) + k]).ToArray()).ToArray();
    }

    /// <summary>For each row of <paramref name="x"/>, the nearest row of <paramref name="y"/>: its index and the (not squared) distance; ties go to the lower index.</summary>
    public (int[] Index, double[] Distance) Nearest(Tensor x, Tensor y)
    {
        int n = checked((int)x.shape[0]);
        if (y.shape[0] < 1) throw new ArgumentException("no vectors to search for the nearest one");
        var index = new int[n];
        var best = new double[n];
        Array.Fill(best, double.PositiveInfinity);
        ForEachTile(x, y, sameSet: false, tile => Parallel.For(0, tile.Rows, i =>
        {
            ReadOnlySpan<double> row = tile.Row(i);
            int r = tile.RowStart + i;
            for (int j = 0; j < row.Length; j++)
                if (row[j] < best[r]) { best[r] = row[j]; index[r] = tile.ColStart + j; }
        }));
        return (index, best.Select(Math.Sqrt).ToArray());
    }

    /// <summary>Inserts <paramref name="value"/> into the ascending <paramref name="best"/>, dropping its largest.</summary>
    static void Insert(Span<double> best, double value)
    {
        int j = best.Length - 1;
        while (j > 0 && best[j - 1] > value) { best[j] = best[j - 1]; j--; }
        best[j] = value;
    }
}
