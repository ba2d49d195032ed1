using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>
/// DPM-Solver++(2M) on an α-deblending model (<see cref="DpmSolverPlusPlus.SampleAlpha"/>): the same second-order
/// multistep solver as <c>dpmpp2m</c>, with x̂_0 = x − α·D; one evaluation a step, its first order the post's Euler step.
/// </summary>
public sealed class AlphaDpmSolverSampler(StepSpacing spacing = StepSpacing.Uniform) : ISampler
{
    public StepSpacing Spacing => spacing;
    public string Name => "iadb2m";
    public string Title => "DPM-Solver++(2M)";
    public string Summary => "α-deblending with DPM-Solver++(2M), a second-order multistep ODE solver: few steps, one evaluation each";
    public DiffusionObjective Objective => DiffusionObjective.AlphaDeblending;

    /// <summary>10 steps: the few-step range the solver is made for.</summary>
    public int DefaultSteps(DiffusionConfig config) => 10;

    public int? MaxSteps(DiffusionConfig config) => AlphaDeblending.MaxSteps;
    public int Evaluations(int steps) => steps;
    public string Describe(int steps, SamplingOptions options) => $"α-deblending DPM-Solver++(2M) {steps} steps" + (spacing == StepSpacing.Uniform ? "" : $", {spacing} spacing");

    public string RowName(SamplingOptions options) => spacing == StepSpacing.Uniform ? Title : $"{Title}, {spacing}";

    public Tensor Sample(SamplerRun run) =>
        DpmSolverPlusPlus.SampleAlpha(run.Network, run.Shape, run.Generator, run.Steps, run.Config.AlphaScale, run.Progress, run.TrajectoryEvery, spacing);
}
