using System.Globalization;
using System.IO.Compression;
using System.Text;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;

namespace LatentDiffusion.Tests.IO;

public sealed class NpzTests
{
    static string NumpyFixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "numpy", file);

    /// <summary>Random statistics whose sigma is a covariance (A·Aᵀ, symmetric positive semi-definite), as loading requires.</summary>
    static FeatureStatistics Sample(int dim = 5)
    {
        var rng = new Random(1);
        double[] mu = Enumerable.Range(0, dim).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] a = Enumerable.Range(0, dim * dim).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var sigma = new double[dim * dim];
        for (int i = 0; i < dim; i++)
            for (int j = 0; j < dim; j++)
                for (int k = 0; k < dim; k++)
                    sigma[i * dim + j] += a[i * dim + k] * a[j * dim + k];
        return new FeatureStatistics(mu, sigma, new StatisticsProvenance(1234, new string('a', 64), "preact"));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Save_ThenLoad_RoundTripsBitForBit()
    {
        using var dir = new TempDirectory();
        string path = dir.File("stats.npz");
        FeatureStatistics original = Sample();
        original.Save(path);
        FeatureStatistics loaded = FeatureStatistics.Load(path);
        Assert.Equal(original.Mu, loaded.Mu);
        Assert.Equal(original.Sigma, loaded.Sigma);
        Assert.Equal(original.Provenance, loaded.Provenance);
    }

    [Fact]
    public void Save_WritesNpyVersion1EntriesStoredInAZip()
    {
        using var dir = new TempDirectory();
        string path = dir.File("stats.npz");
        Sample(128).Save(path);
        using var zip = ZipFile.OpenRead(path);
        Assert.Contains(zip.Entries, e => e.FullName == "mu.npy");
        ZipArchiveEntry sigma = zip.GetEntry("sigma.npy")!;
        Assert.Equal(sigma.Length, sigma.CompressedLength);                  // stored, like numpy.savez
        using var stream = sigma.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        byte[] bytes = memory.ToArray();
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        Assert.Equal(0, (10 + headerLength) % 64);
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (128, 128), }", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(10 + headerLength + 128 * 128 * 8, bytes.Length);
    }

    [Trait("Category", "Parity")]
    [Theory]
    [InlineData("stats_savez.npz")]
    [InlineData("stats_savez_compressed.npz")]
    public void Load_FilesWrittenByNumpy_ReadsTheirValues(string file)
    {
        double[] expected = ExpectedValues();
        FeatureStatistics stats = FeatureStatistics.Load(NumpyFixture(file));
        Assert.Equal(expected[..4], stats.Mu);
        Assert.Equal(expected[4..20], stats.Sigma);
        Assert.Null(stats.Provenance);
    }

    [Trait("Category", "Parity")]
    [Fact]
    public void Load_FortranOrderSigma_IsReadInLogicalOrder()
    {
        // At the npz level: the fixture's sigma is deliberately asymmetric (so the order shows), hence no covariance.
        double[] expected = ExpectedValues();
        var (arrays, _) = Npz.Load(NumpyFixture("stats_fortran.npz"), new Dictionary<string, int> { ["mu"] = 1, ["sigma"] = 2 });
        Assert.Equal(expected[20..36], arrays["sigma"].Data);
        Assert.Contains("not symmetric", Assert.Throws<DataFormatException>(() => FeatureStatistics.Load(NumpyFixture("stats_fortran.npz"))).Message);
    }

    [Trait("Category", "Parity")]
    [Fact]
    public void Load_Float32Arrays_AreRefusedNamingTheDtype()
    {
        string path = NumpyFixture("stats_float32.npz");
        var e = Assert.Throws<DataFormatException>(() => FeatureStatistics.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("'<f4'", e.Message);
    }

    [Fact]
    public void Load_NotAZip_Throws()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.npz");
        File.WriteAllText(path, "this is not an archive");
        AssertFails(path, "not a readable .npz");
    }

    [Fact]
    public void Load_TruncatedFile_Throws()
    {
        using var dir = new TempDirectory();
        string good = dir.File("good.npz"), cut = dir.File("cut.npz");
        Sample(32).Save(good);
        byte[] bytes = File.ReadAllBytes(good);
        foreach (int length in new[] { 0, 30, bytes.Length / 2, bytes.Length - 10 })
        {
            File.WriteAllBytes(cut, bytes[..length]);
            AssertFails(cut, "");
        }
    }

    [Fact]
    public void Load_MissingSigma_NamesTheArray()
    {
        using var dir = new TempDirectory();
        string path = dir.File("mu-only.npz");
        Npz.Save(path, new Dictionary<string, NpyArray> { ["mu"] = NpyArray.Vector([1, 2]) });
        AssertFails(path, "missing array 'sigma'");
    }

    [Fact]
    public void Load_SigmaShapeNotMatchingMu_Throws()
    {
        using var dir = new TempDirectory();
        string path = dir.File("shape.npz");
        Npz.Save(path, new Dictionary<string, NpyArray>
        {
            ["mu"] = NpyArray.Vector([1, 2]),
            ["sigma"] = new NpyArray([3, 3], new double[9]),
        });
        AssertFails(path, "'sigma' has shape (3, 3)");
    }

    [Fact]
    public void Load_WrongRank_Throws()
    {
        using var dir = new TempDirectory();
        string path = dir.File("rank.npz");
        Npz.Save(path, new Dictionary<string, NpyArray>
        {
            ["mu"] = new NpyArray([1, 2], [1, 2]),
            ["sigma"] = new NpyArray([2, 2], new double[4]),
        });
        AssertFails(path, "expected 1 dimension");
    }

    [Fact]
    public void Load_PayloadShorterThanShape_Throws()
    {
        using var dir = new TempDirectory();
        string path = dir.File("short.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, shape) in new[] { ("mu", "(4,)"), ("sigma", "(4, 4)") })
            {
                using var s = zip.CreateEntry(name + ".npy").Open();
                string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}";
                string header = dict.PadRight(64 - 10 - 1) + "\n";
                s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
                s.Write(Encoding.ASCII.GetBytes(header));
                s.Write(new byte[8 * 3]);                                     // 3 values where 4 (or 16) are due
            }
        }
        AssertFails(path, "truncated");
    }

    [Fact]
    public void Load_NonFiniteValues_Throws()
    {
        using var dir = new TempDirectory();
        string path = dir.File("nan.npz");
        new FeatureStatistics([0, double.NaN], new double[4]).Save(path);
        AssertFails(path, "NaN");
    }

    [Fact]
    public void Load_MissingFile_Throws()
    {
        using var dir = new TempDirectory();
        AssertFails(dir.File("absent.npz"), "not found");
    }

    static void AssertFails(string path, string fragment)
    {
        var e = Assert.Throws<DataFormatException>(() => FeatureStatistics.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path, e.Message);
        Assert.Contains(fragment, e.Message);
    }

    static double[] ExpectedValues() =>
        File.ReadAllLines(NumpyFixture("stats_expected.txt")).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
}
