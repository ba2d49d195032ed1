using System.Globalization;
using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>DDIM over S ≤ T steps with η ≥ 0 (Song et al. 2021, eq. 12; <see cref="Ddim.Sample"/>).</summary>
public sealed class DdimSampler : ISampler
{
    public string Name => "ddim";
    public string Title => "DDIM";
    public string Summary => "DDIM in S ≤ T steps; η = 0 is deterministic, η = 1 with S = T is DDPM";
    public DiffusionObjective Objective => DiffusionObjective.Epsilon;
    public IReadOnlyList<string> Parameters => ["eta"];

    /// <summary>50 steps (at most T): within a few percent of DDPM's FID here at a twentieth of the cost (docs/numbers.md).</summary>
    public int DefaultSteps(DiffusionConfig config) => Math.Min(50, config.Steps);

    public int? MaxSteps(DiffusionConfig config) => config.Steps;
    public int Evaluations(int steps) => steps;
    public string Describe(int steps, SamplingOptions options) => $"DDIM {steps} steps, η = {options.Eta.ToString(CultureInfo.InvariantCulture)}";
    public string RowName(SamplingOptions options) => options.Eta == 0 ? "DDIM" : $"DDIM η={options.Eta}";

    public Tensor Sample(SamplerRun run) =>
        Ddim.Sample(run.Network, run.Schedule, run.Shape, run.Generator, run.Steps, run.Eta, run.ClipX0, run.Progress, run.TrajectoryEvery);
}
