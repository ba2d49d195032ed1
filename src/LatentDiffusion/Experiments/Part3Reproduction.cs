using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>
/// What part 3's reproduction scores: the ε-model and the latent VAE it works in, part 2's VAE (the table's VAE row),
/// part 1's classifier, the data, N digits and the seed; optionally the sampler table's models and extent.
/// </summary>
public sealed record Part3Inputs(MnistData Mnist, string ClassifierPath, string VaePath, string Part2VaePath, string ModelPath, string RunDirectory, string ReportDirectory)
{
    public int Count { get; init; } = 10_000;

    public long Seed { get; init; }

    /// <summary>Clamp x̂_0 while sampling (not in the post).</summary>
    public bool ClipX0 { get; init; }

    /// <summary>
    /// Sampling seeds K of every generated row of both tables (the series' VAE and Diffusion rows, every sampler-table row,
    /// <see cref="SamplerTableInputs.Seeds"/>): each sampled at seeds Seed … Seed + K − 1, shown as the mean with the range.
    /// Validation, Random and the reconstruction floors stay one set: references, not generators.
    /// </summary>
    public int Seeds { get; init; } = 1;

    /// <summary>The sampler table's extent (null: none).</summary>
    public SamplerTableSize? Samplers { get; init; } = SamplerTableSize.Quick;

    /// <summary>The α-deblending model for the sampler table.</summary>
    public string? AlphaPath { get; init; }

    /// <summary>The wide α-deblending model for the sampler table, and whether the user named it.</summary>
    public (string Path, bool Given)? Wide { get; init; }

    /// <summary>The distilled student for the sampler table, and whether the user named it.</summary>
    public (string Path, bool Given)? Student { get; init; }
}

/// <summary>The series' FID table, the census, the sampling time, the sampler table (null: none) and the written report.</summary>
public sealed record Part3Result(IReadOnlyList<GeneratorFidRow> Rows, DigitCensus Census, double SampleSeconds, IReadOnlyList<SamplerRow> SamplerRows,
    IReadOnlyList<string> Notes, Part3ReportResult Report, string ClassifierSha256)
{
    /// <summary>The memorisation threshold τ every row's memorised fraction used (null: no row was large enough).</summary>
    public double? MemorisationThreshold { get; init; }

    /// <summary>Wall seconds of the metrics beyond FID over both tables (the training set's k-NN radii and the test set's distances included).</summary>
    public double QualitySeconds { get; init; }

    /// <summary>The part of <see cref="QualitySeconds"/> spent once per run (the training k-NN radii, the test set's distances).</summary>
    public double QualitySetupSeconds { get; init; }
}

/// <summary>
/// <c>ldm reproduce part3</c>: N digits sampled with DDPM over all T steps (the post's sampler) and decoded by the latent
/// VAE; the series' FID table — Random, VAE (part 2's samples), Diffusion, Validation — with the floors under it (each
/// VAE's reconstructions of the test set); the classifier's census of the digits; the sampler table; the report.
/// </summary>
public static class Part3Reproduction
{
    /// <summary>The table's rows in the post's order, then the floors.</summary>
    public static IReadOnlyList<string> RowOrder { get; } = ["Random", "VAE", "Diffusion", "Validation", "VAE reconstructions", "Latent VAE reconstructions"];

    public static Part3Result Run(Part3Inputs inputs, IExperimentObserver? observer = null)
    {
        observer ??= SilentObserver.Instance;
        int n = inputs.Count;
        using Classifier classifier = ModelFile.LoadClassifier(inputs.ClassifierPath);
        using Vae latentVae = ModelFile.LoadVae(inputs.VaePath);
        using Vae postVae = ModelFile.LoadVae(inputs.Part2VaePath);
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(inputs.ModelPath);
        using (unet)
        {
            ModelFile.RequireFits(config, inputs.ModelPath, latentVae, inputs.VaePath);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs.Seeds);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using LatentSamples samples = observer.Step($"sampling {n} digits × {config.Steps} DDPM steps", p =>
                LatentDiffusionSampler.Generate(unet, config, latentVae, n, inputs.Seed, new SamplingOptions { ClipX0 = inputs.ClipX0, TrajectoryEvery = 50, TrajectoryCount = 8 }, p));
            double sampleSeconds = watch.Elapsed.TotalSeconds;
            Directory.CreateDirectory(inputs.RunDirectory);
            ImageOutput.Write(samples.Images.narrow(0, 0, Math.Min(72, n)), Path.Combine(inputs.RunDirectory, "generated_72.png"));
            // Seeds beyond the first: the Diffusion row's (and the sampler table's DDPM row's) further digits, and part 2's VAE's.
            var diffusion = new List<(Tensor Images, double Seconds)> { (samples.Images, sampleSeconds) };
            var vaeSamples = new List<Tensor>();
            try
            {
                for (int k = 1; k < inputs.Seeds; k++)
                {
                    long seed = inputs.Seed + k;
                    var seedWatch = System.Diagnostics.Stopwatch.StartNew();
                    using LatentSamples more = observer.Step($"sampling {n} digits × {config.Steps} DDPM steps, seed {seed}", p =>
                        LatentDiffusionSampler.Generate(unet, config, latentVae, n, seed, new SamplingOptions { ClipX0 = inputs.ClipX0, Sampler = Samplers.Ddpm }, p));
                    diffusion.Add((more.Images.clone(), seedWatch.Elapsed.TotalSeconds));
                }
                for (int k = 0; k < inputs.Seeds; k++) vaeSamples.Add(Part2Sampling.VaeSamples(postVae, n, inputs.Seed + k));
                return Score(inputs, observer, classifier, latentVae, postVae, unet, config, samples, diffusion, vaeSamples);
            }
            finally
            {
                foreach (var (images, _) in diffusion.Skip(1)) images.Dispose();
                foreach (Tensor images in vaeSamples) images.Dispose();
            }
        }
    }

    /// <summary>Both tables, the census and the report, from the DDPM digits of every seed (the first with its trajectory) and part 2's VAE's samples of every seed.</summary>
    static Part3Result Score(Part3Inputs inputs, IExperimentObserver observer, Classifier classifier, Vae latentVae, Vae postVae, UNet unet, DiffusionConfig config,
        LatentSamples samples, IReadOnlyList<(Tensor Images, double Seconds)> diffusion, IReadOnlyList<Tensor> vaeSamples)
    {
        int n = inputs.Count;
        double sampleSeconds = diffusion[0].Seconds;
        string seeds = inputs.Seeds > 1 ? $"; the mean of seeds {inputs.Seed}-{inputs.Seed + inputs.Seeds - 1}" : "";
        using Tensor test = inputs.Mnist.Test.ToInputs();
        using Tensor postRecon = Part2Sampling.VaeReconstructions(postVae, test, inputs.Seed);
        using Tensor latentRecon = Part2Sampling.VaeReconstructions(latentVae, test, inputs.Seed);
        observer.Result("Computing MNIST-FID (both feature definitions)…");
        var scorer = new FidScorer(classifier, inputs.Mnist);   // the training statistics and Validation, shared with the sampler table
        IReadOnlyList<GeneratorFidRow> rows = GeneratorFid.TableOverSeeds(classifier, inputs.Mnist,
        [
            ("VAE", $"{n} samples of part 2's VAE ({inputs.Part2VaePath}), z ~ N(0, I), clipped{seeds}", vaeSamples, (double?)BlogPart2.FidVae),
            ("Diffusion", $"{n} DDPM samples ({config.Steps} steps{(inputs.ClipX0 ? ", x̂0 clipped" : "")}) decoded by {inputs.VaePath}{seeds}", diffusion.Select(d => d.Images).ToList(), BlogPart3.FidDiffusion),
            ("VAE reconstructions", "part 2's VAE's reconstructions of the test set: the floor of any generator in its latent space", [postRecon], null),
            ("Latent VAE reconstructions", $"{inputs.VaePath}'s reconstructions of the test set: the floor of the diffusion row", [latentRecon], null),
        ], scorer: scorer);
        DigitCensus census = DigitCensus.Of(classifier, samples.Images, inputs.Mnist.Test.Labels);
        using SamplerTableResult? table = inputs.Samplers is not { } size ? null : SamplerTable.Run(
            new SamplerTableInputs(unet, config, inputs.ModelPath, latentVae, inputs.VaePath, diffusion)
            {
                AlphaPath = inputs.AlphaPath, Wide = inputs.Wide, Student = inputs.Student, ClipX0 = inputs.ClipX0, Count = n, Seed = inputs.Seed,
                Seeds = inputs.Seeds,
            },
            size, scorer, observer);
        IReadOnlyList<SamplerRow> samplerRows = table?.Rows ?? [];
        observer.Result("Memorisation: every Diffusion digit's nearest training image, in features and in pixels…");
        ClosestPairs closest = scorer.Closest(diffusion[0].Images, "Diffusion");
        var reportInputs = new Part3ReportInputs(inputs.Mnist, config, samples)
        {
            ModelPath = inputs.ModelPath,
            VaePath = inputs.VaePath,
            History = TrainingHistory.Beside(inputs.ModelPath),
            FidRows = rows,
            Census = census,
            SampleSeconds = sampleSeconds,
            SampleCount = n,
            ClipX0 = inputs.ClipX0,
            Seed = inputs.Seed,
            UNetDescription = $"UNet ({string.Join(", ", config.UNet.Widths)}), {unet.ParameterCount()} parameters",
            SamplerRows = samplerRows,
            AlphaDeblendingSamples = table?.AlphaImages,
            AlphaDeblendingDescription = table?.AlphaDescription,
            Memorisation = closest,
        };
        var reportConfig = new Part3ReportConfig();
        reportConfig = reportConfig with   // the post's noising times are for T = 1000: the same fractions of T
        {
            NoisingTimes = reportConfig.NoisingTimes.Select(t => (int)Math.Round(t * (double)config.Steps / 1000)).Distinct().ToArray(),
        };
        Part3ReportResult written = Part3Report.Write(reportInputs, inputs.ReportDirectory, reportConfig, progress: new Progress<string>(observer.Result));
        return new Part3Result(rows, census, sampleSeconds, samplerRows, table?.Notes ?? [], written, ModelWeights.Sha256(inputs.ClassifierPath))
        {
            MemorisationThreshold = scorer.MemorisationThreshold,
            QualitySeconds = scorer.QualitySeconds,
            QualitySetupSeconds = scorer.QualitySetupSeconds,
        };
    }
}
