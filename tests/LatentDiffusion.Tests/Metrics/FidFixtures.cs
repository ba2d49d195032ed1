using System.Text.Json;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

/// <summary>The fixture's <c>fid_cases</c>: pairs of float64 feature matrices with pytorch-fid's scipy-sqrtm FID.</summary>
public static class FidFixtures
{
    public sealed record Case(int Index, double[] A, long RowsA, double[] B, long RowsB, long Dim, double ScipyFid, string Note)
    {
        public Tensor MatrixA() => tensor(A, [RowsA, Dim], ScalarType.Float64);
        public Tensor MatrixB() => tensor(B, [RowsB, Dim], ScalarType.Float64);
    }

    public static TheoryData<int> Indices => new() { 0, 1, 2 };

    public static Case Load(int index)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.PyTorchFixture("manifest.json")));
        JsonElement c = manifest.RootElement.GetProperty("fid_cases")[index];
        var (a, rowsA, dim) = Matrix(c.GetProperty("a"));
        var (b, rowsB, _) = Matrix(c.GetProperty("b"));
        return new Case(index, a, rowsA, b, rowsB, dim, c.GetProperty("fid_scipy_sqrtm").GetDouble(), c.GetProperty("note").GetString() ?? "");
    }

    static (double[] Data, long Rows, long Cols) Matrix(JsonElement entry)
    {
        Assert.Equal("float64", entry.GetProperty("dtype").GetString());
        long rows = entry.GetProperty("shape")[0].GetInt64(), cols = entry.GetProperty("shape")[1].GetInt64();
        byte[] bytes = File.ReadAllBytes(TestPaths.PyTorchFixture(entry.GetProperty("file").GetString()!));
        Assert.Equal(rows * cols * 8, bytes.Length);
        var data = new double[rows * cols];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return (data, rows, cols);
    }
}
