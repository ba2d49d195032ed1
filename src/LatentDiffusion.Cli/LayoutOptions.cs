using System.CommandLine;

namespace LatentDiffusion.Cli;

/// <summary>
/// The memory layout of the conv models' train commands (<see cref="Models.VaeConfig.ChannelsLast"/>,
/// <see cref="Models.AutoencoderConfig.ChannelsLast"/>): channels-last unless <c>--nchw</c>. Channels-last is the
/// measured-faster layout on CPU (bench/README.md) and gives the same values to float32 rounding; NCHW is the post's
/// and PyTorch's default, for comparing with the post's loop step by step.
/// </summary>
public sealed class LayoutOptions
{
    public Option<bool> ChannelsLast { get; } = new("--channels-last")
    {
        Description = "Train (and later run) channels-last: the default; accepted for scripts written when NCHW was.",
    };

    public Option<bool> Nchw { get; } = new("--nchw")
    {
        Description = "Train in NCHW, the post's and PyTorch's default layout, to compare with the post's PyTorch loop step by step; "
                    + "about 1.5x slower steps on one thread (1.8x on two), the same values to float32 rounding.",
    };

    public IReadOnlyList<Option> All => [ChannelsLast, Nchw];

    /// <summary>Whether to train channels-last; both options at once is a usage error.</summary>
    public bool IsChannelsLast(ParseResult parse)
    {
        if (parse.GetValue(Nchw) && parse.GetValue(ChannelsLast)) throw new InvalidOptionException("--nchw and --channels-last: choose one layout");
        return !parse.GetValue(Nchw);
    }
}
