using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// Every numeric option of the sampling commands under extreme, negative-zero, huge, non-finite and malformed values:
/// either a usage error (exit 2, one line, nothing written) or a valid result (exit 0, every pixel finite and in
/// [0, 1]) — never a crash, a stack trace, an "internal error" or a NaN image.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class NumericOptionsFuzzTests
{
    static readonly string[] Values =
    [
        "0", "-0", "-1", "1", "0.5", "1e308", "-1e308", "NaN", "Infinity", "-Infinity", "2147483647", "9223372036854775808", "1e-320", "abc", "",
    ];

    static string Shipped(string file) => RepositoryPaths.Find("models/" + file) ?? throw new FileNotFoundException("shipped model not found", file);

    static string VaeFixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-vae", "vae_state_dict.pt");

    /// <summary>(command with its other options, the option to vary), each run writing an .npz the test can read back.</summary>
    public static TheoryData<string, string> Table() => new()
    {
        { "diffusion-sample", "-n" }, { "diffusion-sample", "--steps" }, { "diffusion-sample", "--eta" }, { "diffusion-sample", "--batch-size" }, { "diffusion-sample", "--seed" },
        { "generate", "--guidance" }, { "generate", "-n" }, { "generate", "--steps" },
        { "vae-sample", "-n" },
    };

    static string[] Command(string name) => name switch
    {
        "diffusion-sample" => ["diffusion", "sample", "--model", Shipped("diffusion.safetensors"), "--vae", Shipped("latent-vae.safetensors"), "--sampler", "ddim", "--steps", "2", "-n", "2"],
        "generate" => ["generate", "--digit", "3", "--model", Shipped("conditional.safetensors"), "--vae", Shipped("latent-vae.safetensors"), "--steps", "2", "-n", "2"],
        "vae-sample" => ["vae", "sample", "--model", VaeFixture, "-n", "2"],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary><paramref name="args"/> with <paramref name="option"/> set to <paramref name="value"/> (replacing its base value).</summary>
    static string[] With(string[] args, string option, string value)
    {
        var list = args.ToList();
        int at = list.IndexOf(option);
        if (at >= 0) list.RemoveRange(at, 2);
        list.Add(option + "=" + value);   // "--eta=-1": a value that starts with '-' is not read as an option
        return [.. list];
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Option_AnyValue_IsAUsageErrorOrAValidResult(string command, string option)
    {
        using var dir = new TempDirectory();
        var outcomes = new List<string>();
        Parallel.ForEach(Values.Select((v, i) => (v, i)), new ParallelOptions { MaxDegreeOfParallelism = 2 }, item =>
        {
            string output = dir.File($"out{item.i}.npz");
            string[] args = [.. With(Command(command), option, item.v), "--out", output];
            LdmProcess.Result r = LdmProcess.Run(args, new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" }, timeoutSeconds: 300);
            string what = $"ldm {string.Join(' ', args.Take(2))} {option}={item.v}: exit {r.ExitCode}\n{r.Stderr}";
            Assert.DoesNotContain("internal error", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
            if (r.ExitCode == 0)
            {
                double[] pixels = Npz.Load(output, new Dictionary<string, int> { ["images"] = 4 }).Arrays["images"].Data;
                Assert.True(pixels.Length > 0, what);
                Assert.All(pixels, p => Assert.True(p >= 0 && p <= 1, what));           // NaN fails both comparisons
                lock (outcomes) outcomes.Add("ok");
            }
            else
            {
                Assert.True(r.ExitCode == 2, what);
                Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ldm:", StringComparison.Ordinal));
                Assert.False(File.Exists(output), "a refused run wrote its output: " + what);
                lock (outcomes) outcomes.Add("usage");
            }
        });
        Assert.Contains("ok", outcomes);      // the base command works, so the refusals are the value's
        Assert.Contains("usage", outcomes);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(dir.Path), f => f.EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal));
    }
}
