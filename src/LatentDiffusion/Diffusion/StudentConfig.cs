namespace LatentDiffusion.Diffusion;

/// <summary>
/// What makes an α-deblending model a distilled student (<see cref="Training.DistillationTask"/>): it was trained on
/// the teacher's (noise, sample) pairs at the α levels of a <see cref="GridSteps"/>-step uniform grid only, so it is
/// sampled by Euler steps on that grid or on a coarser one that the grid contains — every divisor d of
/// <see cref="GridSteps"/> (α_k = k/d are grid levels) — and by nothing else: the ODE it learned is straight between
/// those levels only. Recorded in the weights' config beside the teacher it came from.
/// </summary>
public sealed record StudentConfig
{
    /// <summary>The steps of the finest grid it was trained on (its α levels: 1, (k−1)/k, …, 1/k).</summary>
    public int GridSteps { get; init; }

    /// <summary>SHA-256 of the teacher's weights file.</summary>
    public string? TeacherSha256 { get; init; }

    /// <summary>The teacher's sampler and steps that made the pairs, e.g. "iadb2m" and 10.</summary>
    public string? TeacherSampler { get; init; }

    public int TeacherSteps { get; init; }

    /// <summary>
    /// SHA-256 of the weights it started from when they were not the teacher's (<c>ldm diffusion distill --init</c>: a
    /// smaller α-deblending model on the same latents); null, and not written, when it started from the teacher.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? InitSha256 { get; init; }

    /// <summary>How many (noise, sample) pairs it was trained on.</summary>
    public int Pairs { get; init; }

    /// <summary>The step counts it samples with: the divisors of <see cref="GridSteps"/>, ascending (1, 2, 4 for 4).</summary>
    public IReadOnlyList<int> SupportedSteps() => Enumerable.Range(1, GridSteps).Where(d => GridSteps % d == 0).ToList();

    public bool Supports(int steps) => steps >= 1 && steps <= GridSteps && GridSteps % steps == 0;

    /// <summary>"1, 2 or 4".</summary>
    public string StepsText()
    {
        string[] s = SupportedSteps().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return s.Length == 1 ? s[0] : $"{string.Join(", ", s[..^1])} or {s[^1]}";
    }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(GridSteps, 1, nameof(GridSteps));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(GridSteps, MaxGridSteps, nameof(GridSteps));
    }

    /// <summary>The finest grid a student is distilled for: few-step generation is the point, and each level is a share of the training.</summary>
    public const int MaxGridSteps = 16;
}
