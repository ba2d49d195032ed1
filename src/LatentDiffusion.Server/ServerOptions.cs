using LatentDiffusion.Native;
using LatentDiffusion.Training;

namespace LatentDiffusion.Server;

/// <summary>What <c>ldm serve</c> serves and the limits it keeps. Defaults in the property comments.</summary>
public sealed record ServerOptions
{
    /// <summary>
    /// The folders whose diffusion models (UNet weights, *.safetensors, not *.raw.safetensors) are offered, each with the
    /// VAE that decodes its models' latents and the classifier that reads their images; the first keeps its models' file
    /// names as ids, the others prefix them (<see cref="ServedFolder"/>).
    /// </summary>
    public required IReadOnlyList<ServedFolder> Folders { get; init; }

    /// <summary>The reports folder served under /docs (null or missing: the reports tab says so).</summary>
    public string? DocsDirectory { get; init; }

    /// <summary>TCP port on 127.0.0.1 (0: any free port; <see cref="LdmServer.Url"/> says which). Default 5000.</summary>
    public int Port { get; init; } = 5000;

    /// <summary>Generations that run at once. Default 1: sampling uses every core it is given.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Generations that may wait for a worker; one more is refused with 429. Default 8.</summary>
    public int MaxWaiting { get; init; } = 8;

    /// <summary>Most digits one request may ask for. Default 64.</summary>
    public int MaxCount { get; init; } = 64;

    /// <summary>Most sampling steps one request may ask for. Default 1000 (DDPM's T).</summary>
    public int MaxSteps { get; init; } = 1000;

    /// <summary>
    /// Most denoising frames streamed per generation (every k-th step is shown). Each costs a VAE decode and a PNG of
    /// the grid, about as much as a DDIM step of the same digits. Default 25.
    /// </summary>
    public int MaxFrames { get; init; } = 25;

    /// <summary>
    /// Generations of at most this many digits run on one libtorch thread, larger ones on the process's count
    /// (<see cref="TorchThreads"/>: the count is the generation thread's own). A generation thread's team of two was
    /// slower than one thread at every count up to 64 on 2 cores, the whole request 1.15-1.8x (bench/README.md,
    /// "Serving"). 0: never one thread. Default 64, <see cref="MaxCount"/>'s default: every request.
    /// </summary>
    public int OneThreadUpTo { get; init; } = 64;

    /// <summary>Digits generated when a request does not say. Default 16.</summary>
    public int DefaultCount { get; init; } = 16;

    /// <summary>Classifier-free guidance weight when a request to a class-conditional model does not say and the model records none. Default: <see cref="Recipes.Guidance"/>.</summary>
    public double DefaultGuidance { get; init; } = Recipes.Guidance;

    /// <summary>The weight a request to <paramref name="config"/>'s conditional model gets when it does not say: the model's recorded one, else <see cref="DefaultGuidance"/>.</summary>
    public double GuidanceFor(Diffusion.DiffusionConfig config) => config.Guidance ?? DefaultGuidance;

    /// <summary>
    /// Where that guidance applies (noise levels, t/T or α), the plain conditional prediction elsewhere. Default:
    /// <see cref="Recipes.GuidanceInterval"/>, as <c>ldm generate</c>.
    /// </summary>
    public (double Low, double High)? GuidanceInterval { get; init; } = Recipes.GuidanceInterval;

    /// <summary>
    /// A secret every request must carry (<see cref="RequestGuard"/>), for a port reached through an SSH tunnel or a
    /// reverse proxy; with it, any Host name is answered. Null (default): no token, loopback names only.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>One line per generation and per problem (null: silent).</summary>
    public Action<string>? Log { get; init; }

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Folders);
        foreach (ServedFolder folder in Folders)
        {
            ArgumentException.ThrowIfNullOrEmpty(folder.Directory);
            ArgumentException.ThrowIfNullOrEmpty(folder.VaePath);
            ArgumentException.ThrowIfNullOrEmpty(folder.ClassifierPath);
        }
        if (ServedFolder.Problem(Folders) is { } clash) throw new ArgumentException(clash, nameof(Folders));
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "must be 0-65535");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Workers);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxWaiting);
        ArgumentOutOfRangeException.ThrowIfNegative(OneThreadUpTo);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxFrames);
        if (DefaultCount < 1 || DefaultCount > MaxCount) throw new ArgumentOutOfRangeException(nameof(DefaultCount), DefaultCount, $"must be in 1..{MaxCount}");
        if (Token is not null && RequestGuard.TokenProblem(Token) is { } weak) throw new ArgumentException(weak, nameof(Token));
        if (Diffusion.Guidance.WeightProblem(DefaultGuidance) is { } problem) throw new ArgumentOutOfRangeException(nameof(DefaultGuidance), DefaultGuidance, problem);
    }
}
