using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>
/// One way to integrate a trained latent diffusion network from noise to data: what it is called, which models it fits,
/// its step rules and cost, and the integration itself. The members of the family are listed once, in
/// <see cref="Samplers.All"/>; the CLI, the server, <c>GET /api/models</c> and the page read that list, so a new
/// sampler is one file here plus one line there.
/// </summary>
public interface ISampler
{
    /// <summary>The name on the command line and in the API, e.g. <c>ddim</c>.</summary>
    string Name { get; }

    /// <summary>The name in tables, e.g. DDIM.</summary>
    string Title { get; }

    /// <summary>One line for <c>--help</c> and <c>GET /api/models</c>.</summary>
    string Summary { get; }

    /// <summary>The kind of model whose prediction it integrates (ε or x1 − x0); a class-conditional model of that kind fits too.</summary>
    DiffusionObjective Objective { get; }

    /// <summary>
    /// Whether it can sample <paramref name="config"/>'s model: one of its <see cref="Objective"/> that is not a distilled
    /// student (a student is straight only between the levels it was trained on: <see cref="StudentSampler"/>).
    /// </summary>
    bool Fits(DiffusionConfig config) => config.Objective == Objective && config.Student is null;

    /// <summary>Why <paramref name="steps"/> do not fit <paramref name="config"/>'s model beyond 1..<see cref="MaxSteps"/> (null: they do).</summary>
    string? StepsProblem(int steps, DiffusionConfig config) => null;

    /// <summary>True when the sampler walks a fixed number of steps (DDPM: all T) and takes no step count.</summary>
    bool FixedSteps => false;

    /// <summary>The options beyond the step count that it reads (API field names, e.g. <c>eta</c>); others must stay at their defaults.</summary>
    IReadOnlyList<string> Parameters => [];

    /// <summary>Steps when none are asked for.</summary>
    int DefaultSteps(DiffusionConfig config);

    /// <summary>The most steps it can take on <paramref name="config"/>'s model (null: no bound of its own).</summary>
    int? MaxSteps(DiffusionConfig config);

    /// <summary>Network evaluations per sample for <paramref name="steps"/> steps (the cost: each is one UNet forward).</summary>
    int Evaluations(int steps);

    /// <summary>For people: e.g. "DDIM 50 steps, η = 0".</summary>
    string Describe(int steps, SamplingOptions options);

    /// <summary>The sampler column of the sampler table, e.g. "DDIM" or "Heun".</summary>
    string RowName(SamplingOptions options) => Title;

    /// <summary>
    /// Draws x at full noise from the run's generator, integrates it over <see cref="SamplerRun.Steps"/> steps and
    /// returns the (scaled) latents at data level, calling <see cref="SamplerRun.Progress"/> after each step. The caller
    /// holds no_grad and eval mode; the returned tensor is the caller's.
    /// </summary>
    Tensor Sample(SamplerRun run);
}

/// <summary>
/// What one sampling call is given: the network (x, t) → prediction (guidance already folded in), the model's settings
/// and schedule, the latent shape (B, C, 4, 4), the generator of every draw, the step count, DDIM's η, the x̂_0 clamp (null:
/// none), and the progress callback (steps done, and every <see cref="TrajectoryEvery"/> steps the current x).
/// </summary>
public sealed record SamplerRun(
    Func<Tensor, Tensor, Tensor> Network,
    DiffusionConfig Config,
    NoiseSchedule Schedule,
    long[] Shape,
    Generator Generator,
    int Steps,
    double Eta,
    double? ClipX0,
    Action<int, Tensor?>? Progress,
    int TrajectoryEvery);
