using System.Text.Json;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// The README's main job, part by part, end to end through the real executable on tiny synthetic data: models trained
/// for an epoch by the CLI, then <c>ldm reproduce partN</c> on them — exit 0, the table's rows, the report's pages.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class ReproduceTests
{
    static LdmProcess.Result Ok(IEnumerable<string> args, int timeoutSeconds = 300)
    {
        var r = LdmProcess.Run(args, timeoutSeconds: timeoutSeconds);
        Assert.True(r.ExitCode == 0, $"ldm {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}");
        return r;
    }

    static JsonElement LastJson(LdmProcess.Result r) => JsonDocument.Parse(r.Stdout.TrimEnd().Split('\n')[^1]).RootElement;

    [Fact]
    public void Part1_OneEpoch_EvaluatesAndWritesTheReport()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(200, 100));
        var r = Ok(["reproduce", "part1", "--data", data, "--epochs", "1", "--out", dir.File("run"), "--json"]);
        Assert.True(File.Exists(Path.Combine(dir.File("run"), "report", "index.html")));
        Assert.Equal(2, LastJson(r).GetProperty("fid_baselines").GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public void Part2_TinyModels_GivesTheFidTableAndTheReport()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(160, 80));
        Ok(["autoencoder", "train", "--data", data, "--epochs", "1", "--batch-size", "32", "--out", dir.File("ae")]);
        Ok(["vae", "train", "--data", data, "--epochs", "1", "--batch-size", "32", "--ema", "0.9", "--ema-sweep", "0.5", "--out", dir.File("vae")]);
        Assert.True(File.Exists(dir.File("vae/model.raw.safetensors")), "every train command takes --ema: the raw weights beside the averaged ones");
        Assert.True(File.Exists(dir.File("vae/model.ema-0.5.safetensors")), "every train command takes --ema-sweep");
        var r = Ok(["reproduce", "part2", "--data", data, "--autoencoder", dir.File("ae/model.safetensors"), "--vae", dir.File("vae/model.safetensors"),
            "-n", "60", "--seeds", "2", "--out", dir.File("run"), "--json"]);
        JsonElement json = LastJson(r);
        string[] rows = json.GetProperty("rows").EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["Validation", "Random", "VAE", "AE", "VAE reconstructions", "AE reconstructions"], rows);
        AssertQuality(json.GetProperty("rows"));
        // --seeds 2: the sampled rows (VAE, AE) the mean of seeds 0 and 1; the references one set each.
        AssertSeeds(json.GetProperty("rows"), ["VAE", "AE"]);
        Assert.True(File.Exists(json.GetProperty("report").GetString()));
        Assert.Contains("memorised", File.ReadAllText(Path.Combine(Path.GetDirectoryName(json.GetProperty("report").GetString())!, "report.md")));
        Assert.Contains("VAE", r.Stdout);
    }

    [Fact]
    public void Part3_TinyModels_GivesTheSeriesTableTheCensusAndTheReport()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(160, 80));
        Ok(["vae", "train", "--data", data, "--epochs", "1", "--batch-size", "32", "--out", dir.File("vae")]);
        Ok(["vae", "train", "--data", data, "--epochs", "1", "--batch-size", "32", "--sigma", "logvar", "--head-channels", "8",
            "--latent-channels", "8", "--kl-weight", "0.01", "--out", dir.File("latent")]);
        Ok(["diffusion", "train", "--data", data, "--vae", dir.File("latent/model.safetensors"), "--epochs", "1", "--batch-size", "32",
            "--widths", "8,16", "--timesteps", "20", "--latent-scale", "auto", "--out", dir.File("diffusion")]);
        Ok(["diffusion", "train", "--data", data, "--vae", dir.File("latent/model.safetensors"), "--epochs", "1", "--batch-size", "32",
            "--widths", "8,16", "--objective", "iadb", "--ema", "0.9", "--latent-scale", "auto", "--out", dir.File("iadb")]);
        var r = Ok(["reproduce", "part3", "--data", data, "--vae", dir.File("latent/model.safetensors"), "--part2-vae", dir.File("vae/model.safetensors"),
            "--model", dir.File("diffusion/model.safetensors"), "--iadb-model", dir.File("iadb/model.safetensors"), "--iadb-wide-model", dir.File("iadb/model.safetensors"),
            "-n", "40", "--clip-x0", "--seeds", "2", "--out", dir.File("run"), "--json"]);
        JsonElement json = LastJson(r);
        string[] rows = json.GetProperty("rows").EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["Validation", "Random", "VAE", "Diffusion", "VAE reconstructions", "Latent VAE reconstructions"], rows);
        Assert.Equal(40, json.GetProperty("census").GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64()));
        Assert.True(File.Exists(json.GetProperty("report").GetString()));
        Assert.True(File.Exists(Path.Combine(dir.File("run"), "generated_72.png")));
        // The closest-pairs figure of the Diffusion digits, and the page's memorisation section under it.
        string pairsDir = Path.GetDirectoryName(json.GetProperty("report").GetString())!;
        Assert.True(File.Exists(Path.Combine(pairsDir, "memorisation.png")));
        Assert.Contains("## Memorisation: the closest pairs", File.ReadAllText(Path.Combine(pairsDir, "report.md")));
        // The quick sampler table: DDPM (T = 20 here, so no DDIM 50), α-deblending Euler 50 and Heun 25 (49 evaluations), the
        // wide model's Heun 10 (19) and DPM-Solver++(2M) 10 (here the same tiny model under that option), with the figure.
        var samplers = json.GetProperty("samplers").EnumerateArray().Select(e => (e.GetProperty("sampler").GetString(), e.GetProperty("evaluations").GetInt32(), e.GetProperty("weights").GetString())).ToArray();
        Assert.Equal([("DDPM", 20, "raw"), ("Euler", 50, "ema"), ("Heun", 49, "ema"), ("Heun", 19, "ema"), ("DPM-Solver++(2M), Karras", 10, "ema")], samplers);
        Assert.Equal("α-deblending (8, 16)", json.GetProperty("samplers")[3].GetProperty("model").GetString());
        // Every row of both tables also has precision, recall, density, coverage and the memorised fraction against the training
        // images (40 digits, 160 images: enough for k + 1).
        AssertQuality(json.GetProperty("rows"));
        AssertQuality(json.GetProperty("samplers"));
        // --seeds 2: every sampler row and the series' VAE and Diffusion rows the mean of seeds 0 and 1, each kept, the FID
        // between their lowest and highest; Validation, Random and the floors one set each.
        foreach (JsonElement row in json.GetProperty("samplers").EnumerateArray()) AssertMeanOfSeeds(row, ["fid_preact", "fid_flatten", "ratio_to_validation", "coverage"], "fid_preact");
        AssertSeeds(json.GetProperty("rows"), ["VAE", "Diffusion"]);
        // The DDPM sampler row scores the series' Diffusion digits of both seeds, not a second sampling.
        JsonElement diffusionRow = json.GetProperty("rows").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "Diffusion");
        Assert.Equal(diffusionRow.GetProperty("per_seed").EnumerateArray().Select(p => p.GetProperty("fid_preact").GetDouble()),
            json.GetProperty("samplers")[0].GetProperty("per_seed").EnumerateArray().Select(p => p.GetProperty("fid_preact").GetDouble()));
        Assert.True(json.GetProperty("memorisation_threshold").GetDouble() > 0);
        string reportDir = Path.GetDirectoryName(json.GetProperty("report").GetString())!;
        Assert.True(File.Exists(Path.Combine(reportDir, "samplers.png")));
        Assert.True(File.Exists(Path.Combine(reportDir, "alpha_deblending_samples.png")));
        // The latent VAE and a UNet for the post's 4 channels do not fit: one line naming both files.
        var wrong = LdmProcess.Run(["reproduce", "part3", "--data", data, "--vae", dir.File("vae/model.safetensors"), "--part2-vae", dir.File("vae/model.safetensors"),
            "--model", dir.File("diffusion/model.safetensors"), "-n", "4", "--out", dir.File("run2")]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("diffusion/model.safetensors", wrong.Stderr);
        Assert.Contains("vae/model.safetensors", wrong.Stderr);
        var noSeeds = LdmProcess.Run(["reproduce", "part3", "--data", data, "--seeds", "0", "--out", dir.File("run3")]);
        Assert.Equal(2, noSeeds.ExitCode);
        Assert.Contains("--seeds must be between 1 and 10 (got 0)", noSeeds.Stderr);
        foreach (string command in new[] { "part2", "conditional" })
            LdmProcess.AssertOneLineError(LdmProcess.Run(["reproduce", command, "--data", data, "--seeds", "11", "--out", dir.File("run4")]), 2, "--seeds must be between 1 and 10 (got 11)");
    }

    /// <summary>The rows named <paramref name="sampled"/> are the mean of seeds 0 and 1 (<see cref="AssertMeanOfSeeds"/>); every other row is one seed, without per-seed rows.</summary>
    static void AssertSeeds(JsonElement rows, string[] sampled)
    {
        foreach (JsonElement row in rows.EnumerateArray())
            if (sampled.Contains(row.GetProperty("name").GetString()))
                AssertMeanOfSeeds(row, ["fid_preact", "fid_flatten", "ratio_to_random", "ratio_to_validation", "precision", "memorised_fraction"], "fid_preact");
            else
            {
                Assert.Equal(1, row.GetProperty("seeds").GetInt32());
                Assert.Equal(0, row.GetProperty("per_seed").GetArrayLength());
                Assert.Equal(row.GetProperty("fid_preact").GetDouble(), row.GetProperty("fid_preact_min").GetDouble());
            }
    }

    /// <summary>
    /// A row of <c>--seeds 2 --seed 0</c>: per_seed holds seeds 0 and 1, each of <paramref name="keys"/> is the mean of theirs, and
    /// <paramref name="range"/>_min / _max are the lowest and highest of that key.
    /// </summary>
    internal static void AssertMeanOfSeeds(JsonElement row, string[] keys, string range)
    {
        Assert.Equal(2, row.GetProperty("seeds").GetInt32());
        JsonElement[] perSeed = row.GetProperty("per_seed").EnumerateArray().ToArray();
        Assert.Equal([0L, 1L], perSeed.Select(p => p.GetProperty("seed").GetInt64()));
        foreach (string key in keys)
            Assert.Equal(perSeed.Average(p => p.GetProperty(key).GetDouble()), row.GetProperty(key).GetDouble(), 1e-12);
        double[] values = perSeed.Select(p => p.GetProperty(range).GetDouble()).ToArray();
        Assert.Equal((values.Min(), values.Max()), (row.GetProperty(range + "_min").GetDouble(), row.GetProperty(range + "_max").GetDouble()));
    }

    /// <summary>Every row of a table carries the metrics beyond FID; the Validation row's memorised fraction is the held-out percentile's share of its own images.</summary>
    static void AssertQuality(JsonElement rows)
    {
        foreach (JsonElement row in rows.EnumerateArray())
        {
            foreach (string key in new[] { "precision", "recall", "coverage", "memorised_fraction" }) Assert.InRange(row.GetProperty(key).GetDouble(), 0.0, 1.0);
            Assert.True(row.GetProperty("density").GetDouble() >= 0);
        }
        if (rows.EnumerateArray().FirstOrDefault(r => r.TryGetProperty("name", out JsonElement n) && n.GetString() == "Validation") is { ValueKind: JsonValueKind.Object } validation)
            Assert.InRange(validation.GetProperty("memorised_fraction").GetDouble(), 0.0, 0.05);
    }
}
