using System.CommandLine;
using LatentDiffusion.Cli.Commands;
using LatentDiffusion.Models;

namespace LatentDiffusion.Cli;

/// <summary>The options that set a <see cref="VaeConfig"/> (<c>vae train</c>, <c>distributed prepare --kind vae</c>), and the config they make.</summary>
public sealed class VaeModelOptions
{
    static readonly VaeConfig Defaults = new();

    public Option<double> KlWeight { get; } = new("--kl-weight") { Description = "Weight of the KL term (the post: 1).", DefaultValueFactory = _ => Defaults.KlWeight };
    public Option<string> Sigma { get; } = new("--sigma") { Description = "What the encoder's σ channels are: raw (the post: σ itself) or logvar (log σ²).", DefaultValueFactory = _ => "raw" };
    public Option<int> LatentChannels { get; } = new("--latent-channels") { Description = "Channels of the latent (the post: 4).", DefaultValueFactory = _ => Defaults.LatentChannels };
    public Option<int?> LatentSide { get; } = new("--latent-side") { Description = "Side of the latent: 4 (the series: C x 4 x 4) or 8 (C x 8 x 8, one level fewer: more detail kept, a 4x dearer generator step). Default: 4." };
    public Option<int> HeadChannels { get; } = new("--head-channels") { Description = "Hidden channels before a 1x1 conv head giving μ and σ (0, the post: none).", DefaultValueFactory = _ => Defaults.HeadChannels };
    public LayoutOptions Layout { get; } = new();

    public VaeModelOptions() => Sigma.AcceptOnlyFromAmong("raw", "logvar");

    public IReadOnlyList<Option> All => [KlWeight, Sigma, LatentChannels, LatentSide, HeadChannels, .. Layout.All];

    public void AddTo(Command command)
    {
        foreach (Option o in All) command.Options.Add(o);
    }

    /// <summary>
    /// The VAE the options ask for at <paramref name="channels"/> and <paramref name="resolution"/> (the data's); a
    /// setting that cannot work is a usage error naming its option.
    /// </summary>
    public VaeConfig Config(ParseResult parse, int channels, int resolution)
    {
        VaeConfig model = Config(parse).ForResolution(channels, resolution);
        if (parse.GetValue(LatentSide) is not { } side) return model;
        try { return model.ForLatentSide(side); }
        catch (ArgumentException e) { throw new InvalidOptionException($"--latent-side: {e.Message.Split(" (Parameter")[0]}"); }
    }

    /// <summary>The VAE the options ask for at 1 channel and 32 px, before --latent-side (private: callers give the data's shape).</summary>
    VaeConfig Config(ParseResult parse)
    {
        var model = Defaults with
        {
            KlWeight = parse.GetValue(KlWeight),
            Sigma = parse.GetValue(Sigma) == "logvar" ? SigmaParameterization.LogVariance : SigmaParameterization.Raw,
            LatentChannels = parse.GetValue(LatentChannels),
            HeadChannels = parse.GetValue(HeadChannels),
            ChannelsLast = Layout.IsChannelsLast(parse),
        };
        try { model.Validate(); }
        catch (ArgumentException e) { throw new InvalidOptionException($"{OptionOf(e.ParamName)}: {e.Message.Split(" (Parameter")[0]}"); }
        return model;
    }

    /// <summary>The option that sets <see cref="VaeConfig"/>'s <paramref name="property"/>.</summary>
    static string OptionOf(string? property) => property switch
    {
        nameof(VaeConfig.KlWeight) => "--kl-weight",
        nameof(VaeConfig.LatentChannels) => "--latent-channels",
        nameof(VaeConfig.HeadChannels) => "--head-channels",
        _ => "the VAE's settings",
    };
}
