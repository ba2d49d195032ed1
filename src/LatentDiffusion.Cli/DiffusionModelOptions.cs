using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli;

/// <summary>
/// What the diffusion options ask for, before the latents exist: the UNet, objective and schedule settings, and the
/// VAE whose latents it trains on. <see cref="Config"/> completes it once the latents are encoded.
/// </summary>
public sealed record DiffusionChoice(string VaePath, int[] Widths, bool InputSkip, bool Conditional, double? FixedScale,
    DiffusionObjective Objective, double LabelDropout, double AlphaScale, int Timesteps)
{
    /// <summary>The model's config on <paramref name="latents"/>: their channels, scale (given or 1/std), range and VAE hash.</summary>
    public DiffusionConfig Config(LatentSet latents)
    {
        var unet = new UNetConfig { LatentChannels = latents.Channels, Widths = Widths, InputSkip = InputSkip, Classes = Conditional ? latents.Data?.ClassNames.Count ?? 10 : 0 };
        return latents.Config(unet, FixedScale) with { Objective = Objective, LabelDropout = LabelDropout, AlphaScale = AlphaScale, Steps = Timesteps };
    }
}

/// <summary>The options that set a latent diffusion model (<c>diffusion train</c>, <c>distributed prepare --kind diffusion</c>).</summary>
public sealed class DiffusionModelOptions
{
    public Option<string> Vae { get; } = CommonOptions.VaeOption("latent-vae.safetensors");
    public Option<string> Widths { get; } = new("--widths")
    {
        Description = "UNet channels per level, comma-separated (two levels fit a 4x4 latent).",
        DefaultValueFactory = _ => string.Join(",", new UNetConfig().Widths),
    };
    public Option<string> Scale { get; } = new("--latent-scale")
    {
        Description = "Multiply latents by this before diffusion; 'auto' = 1/std of the training latents (the post: 1).",
        DefaultValueFactory = _ => "1",
    };
    public Option<bool> InputSkip { get; } = new("--input-skip") { Description = "Give the UNet's output a time-gated path from x_t (beyond the post; see UNetConfig.InputSkip)." };
    public Option<int> Timesteps { get; } = new("--timesteps")
    {
        Description = "T, the number of diffusion steps (the post: 1000); DDPM sampling walks all of them.",
        DefaultValueFactory = _ => new DiffusionConfig().Steps,
    };
    public Option<int?> OldSteps { get; } = new("--steps") { Description = "Deprecated spelling of --timesteps (on diffusion sample, --steps is the sampling steps S).", Hidden = true };
    public Option<string> Objective { get; } = new("--objective")
    {
        Description = "eps: predict the noise (DDPM, part 3); iadb: predict x1 − x0 (iterative α-deblending, the follow-up).",
        DefaultValueFactory = _ => "eps",
    };
    public Option<double> AlphaScale { get; } = new("--alpha-scale")
    {
        Description = "iadb: the embedding is fed α times this (1: α itself, as the follow-up).",
        DefaultValueFactory = _ => new DiffusionConfig().AlphaScale,
    };
    public Option<bool> Conditional { get; } = new("--conditional") { Description = "Class-conditional: a label embedding (10 digits + \"no label\") beside t, for classifier-free guidance (ldm generate)." };
    public Option<double> LabelDropout { get; } = new("--label-dropout")
    {
        Description = "--conditional: probability of training a batch element without its label.",
        DefaultValueFactory = _ => new DiffusionConfig().LabelDropout,
    };

    public DiffusionModelOptions() => Objective.AcceptOnlyFromAmong("eps", "iadb");

    public IReadOnlyList<Option> All => [Vae, Widths, Scale, Timesteps, OldSteps, InputSkip, Objective, AlphaScale, Conditional, LabelDropout];

    public void AddTo(Command command)
    {
        foreach (Option o in All) command.Options.Add(o);
    }

    /// <summary>The options read and checked (the VAE file must exist); a setting that cannot work is a usage error naming its option.</summary>
    public DiffusionChoice Read(ParseResult parse)
    {
        int[] w = ParseWidths(parse.GetValue(Widths)!);
        int t = parse.GetValue(Timesteps);
        string tName = "--timesteps";
        if (parse.GetValue(OldSteps) is int old)
        {
            if (parse.GetResult(Timesteps) is { Implicit: false }) throw new InvalidOptionException("--steps is the deprecated spelling of --timesteps: give one of them");
            (t, tName) = (old, "--steps");
        }
        if (t < 2) throw new InvalidOptionException($"{tName} must be at least 2 (got {t})");
        if (tName == "--steps") CliApp.Err.MarkupLine("[yellow]note:[/] diffusion train --steps is deprecated: it is --timesteps (T) now, so that --steps always means sampling steps");
        double alphaScale = parse.GetValue(AlphaScale);
        if (!(alphaScale > 0) || double.IsInfinity(alphaScale)) throw new InvalidOptionException($"--alpha-scale must be a positive number (got {alphaScale})");
        DiffusionObjective kind = parse.GetValue(Objective) == "iadb" ? DiffusionObjective.AlphaDeblending : DiffusionObjective.Epsilon;
        double dropout = parse.GetValue(LabelDropout);
        if (!(dropout >= 0 && dropout <= 1)) throw new InvalidOptionException($"--label-dropout must be in [0, 1] (got {dropout})");
        string scaleText = parse.GetValue(Scale)!;
        double? fixedScale = scaleText == "auto" ? null
            : double.TryParse(scaleText, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) ? v
            : throw new InvalidOptionException($"--latent-scale must be 'auto' or a positive number (got {scaleText})");
        string vaePath = CliApp.RequireFile(parse.GetValue(Vae), "VAE");
        if (w.Length > 2)
        {
            // Each level halves the latent; the deepest must keep 2x2 for the instance norm: log2(side) levels.
            long side;
            using (Models.Vae vae = IO.ModelFile.LoadVae(vaePath)) side = vae.LatentShape[^1];
            int levels = System.Numerics.BitOperations.Log2((ulong)side);
            if (w.Length > levels)
                throw new InvalidOptionException($"--widths: a {side}x{side} latent takes at most {levels} levels (got {w.Length}; each level halves the side, the last keeps 2x2)");
        }
        return new DiffusionChoice(vaePath, w, parse.GetValue(InputSkip), parse.GetValue(Conditional), fixedScale, kind, dropout, alphaScale, t);
    }

    static int[] ParseWidths(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] <= 0)
                throw new InvalidOptionException($"--widths must be positive integers separated by commas (got '{text}')");
        if (widths.Length < 1) throw new InvalidOptionException($"--widths: give at least one width (got '{text}')");
        return widths;
    }
}
