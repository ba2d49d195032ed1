using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>
/// A distilled student's sampler (<see cref="StudentConfig"/>): S Euler steps of α-deblending on the uniform grid
/// α_k = k/S (<see cref="AlphaDeblending.EulerStep"/>), S one of the step counts the student was trained for. With a
/// perfectly straight student every S lands on its teacher's sample; the fewer steps, the more of the remaining
/// curvature each one skips. The only sampler that fits a student, and it fits nothing else.
/// </summary>
public sealed class StudentSampler : ISampler
{
    public string Name => "student";
    public string Title => "Student";
    public string Summary => "a distilled α-deblending student: Euler on its own grid, 1–4 evaluations";
    public DiffusionObjective Objective => DiffusionObjective.AlphaDeblending;

    public bool Fits(DiffusionConfig config) => config.Objective == Objective && config.Student is not null;

    /// <summary>The student's finest grid: its best samples (the coarser ones are for speed).</summary>
    public int DefaultSteps(DiffusionConfig config) => config.Student?.GridSteps ?? 1;

    public int? MaxSteps(DiffusionConfig config) => config.Student?.GridSteps;

    public string? StepsProblem(int steps, DiffusionConfig config) =>
        config.Student is { } s && !s.Supports(steps) ? $"this student samples in {s.StepsText()} steps (got {steps})" : null;

    public int Evaluations(int steps) => steps;

    public string Describe(int steps, SamplingOptions options) => $"distilled student, {steps} step{(steps == 1 ? "" : "s")}";

    public Tensor Sample(SamplerRun run) =>
        AlphaDeblending.Sample(run.Network, run.Shape, run.Generator, run.Steps, heun: false, run.Config.AlphaScale, run.Progress, run.TrajectoryEvery);
}
