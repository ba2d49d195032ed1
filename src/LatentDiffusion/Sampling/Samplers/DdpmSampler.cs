using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>Ancestral DDPM over all T steps (Ho et al. 2020, Algorithm 2; <see cref="Ddpm.Sample"/>): part 3's sampler.</summary>
public sealed class DdpmSampler : ISampler
{
    public string Name => "ddpm";
    public string Title => "DDPM";
    public string Summary => "ancestral DDPM over all T steps (part 3, the post)";
    public DiffusionObjective Objective => DiffusionObjective.Epsilon;
    public bool FixedSteps => true;
    public int DefaultSteps(DiffusionConfig config) => config.Steps;
    public int? MaxSteps(DiffusionConfig config) => config.Steps;
    public int Evaluations(int steps) => steps;
    public string Describe(int steps, SamplingOptions options) => $"DDPM {steps} steps";

    public Tensor Sample(SamplerRun run) =>
        Ddpm.Sample(run.Network, run.Schedule, run.Shape, run.Generator, run.ClipX0, run.Progress, run.TrajectoryEvery);
}
