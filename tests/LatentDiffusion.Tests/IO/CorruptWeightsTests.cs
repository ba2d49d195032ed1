using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.IO;

/// <summary>
/// Damaged weights files (seeded bit flips anywhere, truncation at many lengths), for both formats: each load either
/// fails with a <see cref="DataFormatException"/> naming the file or, where the format cannot tell, loads tensors
/// of the right names and shapes — never another exception type.
/// </summary>
[Collection("Torch")]
public sealed class CorruptWeightsTests : IDisposable
{
    readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>
    /// Our safetensors files carry a checksum of the tensor data, so a flipped bit is either an error naming the file
    /// or (in a header byte that does not matter, e.g. a metadata value) loads exactly the original weights.
    /// </summary>
    [Trait("Category", "Slow")]
    [Fact]
    public void Safetensors_AnyBitFlip_IsAnErrorOrHarmless()
    {
        byte[] original = Saved(".safetensors", out string path);
        using var reference = new Classifier();
        ModelWeights.Load(reference, path);
        var rng = new Random(11);
        int rejected = 0;
        for (int i = 0; i < 300; i++)
        {
            byte[] damaged = (byte[])original.Clone();
            int at = i < 100 ? rng.Next(0, 600) : rng.Next(600, damaged.Length);   // header, then tensor data
            damaged[at] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, damaged);
            try
            {
                using var model = new Classifier();
                ModelWeights.Load(model, path);
                Training.ClassifierTrainerTests.AssertSameWeights(reference, model);
                Assert.True(at < 600, $"a flip in tensor data at byte {at} went unnoticed");
            }
            catch (DataFormatException e)
            {
                Assert.Contains(path, e.Message);
                rejected++;
            }
        }
        Assert.True(rejected >= 250, $"only {rejected} of 300 flips rejected");
    }

    [Theory]
    [InlineData(".safetensors")]
    [InlineData(".pt")]
    public void Truncated_AtManyLengths_IsAnErrorNamingTheFile(string extension)
    {
        byte[] original = Saved(extension, out string path);
        for (int length = 0; length < original.Length; length += Math.Max(1, original.Length / 97))
        {
            File.WriteAllBytes(path, original[..length]);
            var e = Assert.Throws<DataFormatException>(() => ModelWeights.Load(new Classifier(), path));
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void PyTorch_BitFlips_FailCleanlyOrLoadTheRightShapes()
    {
        byte[] original = Saved(".pt", out string path);
        var rng = new Random(12);
        int rejected = 0;
        for (int i = 0; i < 150; i++)
        {
            byte[] damaged = (byte[])original.Clone();
            damaged[rng.Next(0, damaged.Length)] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, damaged);
            try
            {
                using var model = new Classifier();
                ModelWeights.Load(model, path);     // a flip inside raw tensor bytes is invisible to the .pt format
            }
            catch (DataFormatException e)
            {
                Assert.Contains(path, e.Message);
                rejected++;
            }
        }
        Assert.True(rejected > 0);
    }

    [Fact]
    public void EmptyAndGarbageFiles_AreErrors()
    {
        foreach (string name in new[] { "empty.safetensors", "empty.pt", "text.safetensors", "text.pt" })
        {
            string path = dir.File(name);
            File.WriteAllText(path, name.StartsWith("text") ? "this is not a weights file at all" : "");
            var e = Assert.Throws<DataFormatException>(() => ModelWeights.Load(new Classifier(), path));
            Assert.Contains(path, e.Message);
        }
    }

    byte[] Saved(string extension, out string path)
    {
        path = dir.File("m" + extension);
        manual_seed(4);
        using var model = new Classifier();
        ModelWeights.Save(model, path);
        return File.ReadAllBytes(path);
    }
}
