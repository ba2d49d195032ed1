using System.Text.Json;
using LatentDiffusion.Metrics;

namespace LatentDiffusion.Tests.Metrics;

/// <summary>
/// Fixtures/numpy-prdc (python/make_prdc_fixture.py): random float64 feature sets and what the reference code
/// (clovaai/generative-evaluation-prdc <c>compute_prdc</c>, numpy and scikit-learn) computes on them.
/// </summary>
public sealed class PrdcFixture
{
    public required FeatureMatrix Real { get; init; }
    public required FeatureMatrix Fake { get; init; }
    public required FeatureMatrix HeldOut { get; init; }
    public required double[] RealRadiiK3 { get; init; }
    public required double[] RealRadiiK5 { get; init; }
    public required long[] FakeNearest { get; init; }
    public required double[] FakeNearestDistance { get; init; }
    public required JsonElement Manifest { get; init; }

    public double Number(string name) => Manifest.GetProperty(name).GetDouble();

    static string File(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "numpy-prdc", name);

    public static PrdcFixture Load()
    {
        JsonElement manifest = JsonDocument.Parse(System.IO.File.ReadAllText(File("manifest.json"))).RootElement;
        return new PrdcFixture
        {
            Real = Matrix(manifest, "real"),
            Fake = Matrix(manifest, "fake"),
            HeldOut = Matrix(manifest, "held_out"),
            RealRadiiK3 = Array<double>(manifest, "real_radii_k3", "float64"),
            RealRadiiK5 = Array<double>(manifest, "real_radii_k5", "float64"),
            FakeNearest = Array<long>(manifest, "fake_nearest", "int64"),
            FakeNearestDistance = Array<double>(manifest, "fake_nearest_distance", "float64"),
            Manifest = manifest,
        };
    }

    static FeatureMatrix Matrix(JsonElement manifest, string name)
    {
        JsonElement entry = manifest.GetProperty(name);
        int rows = entry.GetProperty("shape")[0].GetInt32(), cols = entry.GetProperty("shape")[1].GetInt32();
        double[] data = Array<double>(manifest, name, "float64");
        Assert.Equal(rows * cols, data.Length);
        return new FeatureMatrix(data, rows, cols, name);
    }

    static T[] Array<T>(JsonElement manifest, string name, string dtype) where T : unmanaged
    {
        JsonElement entry = manifest.GetProperty(name);
        Assert.Equal(dtype, entry.GetProperty("dtype").GetString());
        byte[] bytes = System.IO.File.ReadAllBytes(File(entry.GetProperty("file").GetString()!));
        var values = new T[bytes.Length / System.Runtime.InteropServices.Marshal.SizeOf<T>()];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
