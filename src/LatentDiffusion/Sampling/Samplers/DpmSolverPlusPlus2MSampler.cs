using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>DPM-Solver++(2M) (Lu et al. 2022; <see cref="DpmSolverPlusPlus.Sample"/>): a second-order multistep ODE solver for ε-models, one evaluation a step.</summary>
public sealed class DpmSolverPlusPlus2MSampler(StepSpacing spacing = StepSpacing.Uniform) : ISampler
{
    /// <summary>Where the steps go (the registered sampler: Karras's, <see cref="Samplers.DpmSolver"/>).</summary>
    public StepSpacing Spacing => spacing;

    public string Name => "dpmpp2m";
    public string Title => "DPM-Solver++(2M)";
    public string Summary => "DPM-Solver++(2M), a second-order multistep ODE solver: few steps, deterministic";
    public DiffusionObjective Objective => DiffusionObjective.Epsilon;

    /// <summary>20 steps (at most T): the paper's range for good samples is 10-20.</summary>
    public int DefaultSteps(DiffusionConfig config) => Math.Min(20, config.Steps);

    public int? MaxSteps(DiffusionConfig config) => config.Steps;
    public int Evaluations(int steps) => steps;
    public string Describe(int steps, SamplingOptions options) => $"DPM-Solver++(2M) {steps} steps" + (spacing == StepSpacing.Uniform ? "" : $", {spacing} spacing");

    public string RowName(SamplingOptions options) => spacing == StepSpacing.Uniform ? Title : $"{Title}, {spacing}";

    public Tensor Sample(SamplerRun run) =>
        DpmSolverPlusPlus.Sample(run.Network, run.Schedule, run.Shape, run.Generator, run.Steps, run.ClipX0, run.Progress, run.TrajectoryEvery, spacing);
}
