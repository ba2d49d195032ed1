using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>
/// Iterative α-deblending with Euler steps (Heitz et al. 2023, Algorithm 2; <see cref="AlphaDeblending.EulerStep"/>):
/// the follow-up post's <c>do_diffusion_backward</c>, S uniform steps from α = 1 to 0.
/// </summary>
public sealed class AlphaEulerSampler(StepSpacing spacing = StepSpacing.Uniform) : ISampler
{
    /// <summary>Where the steps go (the registered sampler: uniform in α, the post's).</summary>
    public StepSpacing Spacing => spacing;

    public string Name => "iadb";
    public string Title => "Euler";
    public string Summary => "α-deblending, Euler steps (the follow-up post)";
    public DiffusionObjective Objective => DiffusionObjective.AlphaDeblending;
    public int DefaultSteps(DiffusionConfig config) => 50;
    public int? MaxSteps(DiffusionConfig config) => AlphaDeblending.MaxSteps;
    public int Evaluations(int steps) => AlphaDeblending.Evaluations(steps, heun: false);
    public string Describe(int steps, SamplingOptions options) => $"α-deblending {steps} Euler steps" + (spacing == StepSpacing.Uniform ? "" : $", {spacing} spacing");

    public string RowName(SamplingOptions options) => spacing == StepSpacing.Uniform ? Title : $"{Title}, {spacing}";

    public Tensor Sample(SamplerRun run) =>
        AlphaDeblending.Sample(run.Network, run.Shape, run.Generator, run.Steps, heun: false, run.Config.AlphaScale, run.Progress, run.TrajectoryEvery, spacing);
}
