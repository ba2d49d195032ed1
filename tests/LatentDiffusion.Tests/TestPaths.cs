using LatentDiffusion.IO;

namespace LatentDiffusion.Tests;

/// <summary>Locations of the files tests read: the committed fixtures and the shipped data.</summary>
public static class TestPaths
{
    /// <summary>tests/LatentDiffusion.Tests/Fixtures/pytorch-classifier, copied into the test output.</summary>
    public static string PyTorchFixture(string file) =>
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-classifier", file);

    /// <summary>The repository's data/mnist.</summary>
    public static string MnistDirectory =>
        RepositoryPaths.Find("data/mnist") ?? throw new DirectoryNotFoundException("data/mnist not found above " + AppContext.BaseDirectory);

    /// <summary>A fresh empty directory under the system temp folder.</summary>
    public static string NewTempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ldm-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Little-endian float32 file → array.</summary>
    public static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
