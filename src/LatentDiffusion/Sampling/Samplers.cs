using LatentDiffusion.Diffusion;

namespace LatentDiffusion.Sampling;

/// <summary>
/// The samplers, listed once: the only place that knows their names. A new sampler is a file in Samplers/ and a line
/// in <see cref="All"/>.
/// </summary>
public static class Samplers
{
    public static ISampler Ddpm { get; } = new DdpmSampler();
    public static ISampler Ddim { get; } = new DdimSampler();
    public static ISampler AlphaEuler { get; } = new AlphaEulerSampler();
    public static ISampler AlphaHeun { get; } = new AlphaHeunSampler();

    /// <summary>
    /// The multistep solvers step on Karras et al.'s ρ = 7 grid: of uniform, Karras and logSNR-uniform spacing it gave
    /// the lowest FID at 10 and 20 evaluations on both shipped (32, 64) models (docs/numbers.md, ldm-bench --solvers).
    /// </summary>
    public static ISampler DpmSolver { get; } = new DpmSolverPlusPlus2MSampler(StepSpacing.Karras);

    /// <inheritdoc cref="DpmSolver"/>
    public static ISampler AlphaDpmSolver { get; } = new AlphaDpmSolverSampler(StepSpacing.Karras);

    /// <summary>The one sampler of a distilled student.</summary>
    public static ISampler Student { get; } = new StudentSampler();

    /// <summary>Every sampler, in the order the CLI's help and the API list them.</summary>
    public static IReadOnlyList<ISampler> All { get; } = [Ddpm, Ddim, AlphaEuler, AlphaHeun, DpmSolver, AlphaDpmSolver, Student];

    /// <summary>The sampler called <paramref name="name"/> (case-sensitive, as on the command line), or null.</summary>
    public static ISampler? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The samplers that fit <paramref name="config"/>'s model, in <see cref="All"/>'s order.</summary>
    public static IReadOnlyList<ISampler> For(DiffusionConfig config) => All.Where(s => s.Fits(config)).ToList();

    /// <summary>Every name, for messages: "ddpm, ddim, iadb or heun".</summary>
    public static string Names => Join(All);

    /// <summary>"a, b or c".</summary>
    public static string Join(IEnumerable<ISampler> samplers)
    {
        string[] names = samplers.Select(s => s.Name).ToArray();
        return names.Length <= 1 ? string.Join("", names) : $"{string.Join(", ", names[..^1])} or {names[^1]}";
    }

    /// <summary>
    /// The sampler a model gets when none is named on the command line or in the library: the one its post samples with
    /// (DDPM over all T for an ε-model, α-deblending Euler for an α-model), so that results reproduce the posts.
    /// </summary>
    public static ISampler Default(DiffusionConfig config) =>
        config.Student is not null ? Student : config.Objective == DiffusionObjective.AlphaDeblending ? AlphaEuler : Ddpm;

    /// <summary>
    /// The sampler an interactive caller (<c>ldm serve</c>'s page and API) gets when none is named: the default steps of
    /// the fast one of each kind (DDIM for an ε-model, α-deblending Euler for an α-model), listed first to the page.
    /// </summary>
    public static ISampler Interactive(DiffusionConfig config) =>
        config.Student is not null ? Student : config.Objective == DiffusionObjective.AlphaDeblending ? AlphaEuler : Ddim;

    /// <summary>
    /// The sampler the deprecated switch <c>--heun</c> (API field <c>heun: true</c>) asks for with <paramref name="named"/>:
    /// α-deblending Heun in place of Euler (or of no sampler named); null when the switch does not apply to it.
    /// </summary>
    public static ISampler? WithHeun(ISampler? named) => named is null || named == AlphaEuler || named == AlphaHeun ? AlphaHeun : null;
}
