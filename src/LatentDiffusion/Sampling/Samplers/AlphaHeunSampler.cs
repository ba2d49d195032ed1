using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>
/// Iterative α-deblending with second-order Heun steps (Karras et al. 2022, Algorithm 1; <see cref="AlphaDeblending.HeunStep"/>),
/// Euler on the last step into α = 0: 2S − 1 network evaluations.
/// </summary>
public sealed class AlphaHeunSampler(StepSpacing spacing = StepSpacing.Uniform) : ISampler
{
    /// <summary>Where the steps go (the registered sampler: uniform in α, the post's).</summary>
    public StepSpacing Spacing => spacing;

    public string Name => "heun";
    public string Title => "Heun";
    public string Summary => "α-deblending, second-order Heun steps (2S − 1 evaluations)";
    public DiffusionObjective Objective => DiffusionObjective.AlphaDeblending;
    public int DefaultSteps(DiffusionConfig config) => 50;
    public int? MaxSteps(DiffusionConfig config) => AlphaDeblending.MaxSteps;
    public int Evaluations(int steps) => AlphaDeblending.Evaluations(steps, heun: true);
    public string Describe(int steps, SamplingOptions options) => $"α-deblending {steps} Heun steps" + (spacing == StepSpacing.Uniform ? "" : $", {spacing} spacing");

    public string RowName(SamplingOptions options) => spacing == StepSpacing.Uniform ? Title : $"{Title}, {spacing}";

    public Tensor Sample(SamplerRun run) =>
        AlphaDeblending.Sample(run.Network, run.Shape, run.Generator, run.Steps, heun: true, run.Config.AlphaScale, run.Progress, run.TrajectoryEvery, spacing);
}
