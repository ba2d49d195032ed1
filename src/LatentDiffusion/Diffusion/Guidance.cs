using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// Classifier-free guidance (Ho and Salimans 2022, eq. 6, with w here the weight of the conditional prediction):
/// ε̃(x, t, y) = ε(x, t, ∅) + w·(ε(x, t, y) − ε(x, t, ∅)). w = 0 is the unconditional model, w = 1 the plain conditional
/// one, w &gt; 1 pushes samples towards what the label makes more likely. The same mix applies to an α-deblending
/// model's prediction of x1 − x0 (both are linear functions of the score). Training drops the label with probability
/// p (<see cref="DiffusionConfig.LabelDropout"/>) so that one network learns both.
/// </summary>
public static class Guidance
{
    /// <summary>
    /// The largest weight w. The mix has no hard limit in exact arithmetic, but it extrapolates the network's prediction
    /// w − 1 times the conditional–unconditional gap beyond anything it was trained to produce: far above the weights
    /// that help (the shipped recipe uses 3), samples stop being digits, and in float32 a large enough w makes them
    /// infinite. 20 keeps every request within the range where the shipped model's digits still read as asked
    /// (docs/serve.md gives the measurement).
    /// </summary>
    public const double MaxWeight = 20;

    /// <summary>Why <paramref name="w"/> cannot be a guidance weight, in words naming it as <paramref name="name"/> (null: it can).</summary>
    public static string? WeightProblem(double w, string name = "guidance") => w >= 0 && w <= MaxWeight ? null :
        $"{name} must be a number in [0, {MaxWeight}] (0: unconditional, 1: conditional, more: more typical of the digit) (got {w.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})";

    /// <summary>
    /// The guided prediction as a (x, t) → prediction function for the samplers, with <paramref name="labels"/> (B,)
    /// int64 fixed; w ∉ {0, 1} evaluates the conditional and unconditional halves as one batch of 2B.
    /// </summary>
    /// <param name="interval">
    /// Guidance interval (Kynkäänniemi et al. 2024): apply w only while the network's time is within [lo, hi] (in its own
    /// units: t for an ε-model, α·scale for an α-model; the batch shares one time) and the plain conditional prediction
    /// (w = 1) elsewhere. Null: everywhere.
    /// </param>
    public static Func<Tensor, Tensor, Tensor> Guided(UNet unet, Tensor labels, double w, (double Low, double High)? interval = null)
    {
        if (unet.Config.Classes == 0) throw new ArgumentException("guidance needs a class-conditional UNet (UNetConfig.Classes > 0)", nameof(unet));
        if (!(w >= 0 && w <= MaxWeight)) throw new ArgumentOutOfRangeException(nameof(w), w, $"must be a number in [0, {MaxWeight}]");
        if (w == 0) return (x, t) => unet.forward(x, t, null);
        if (w == 1) return (x, t) => unet.forward(x, t, labels);
        return (x, t) =>
        {
            if (interval is var (low, high))
            {
                double time = t[0].to_type(ScalarType.Float64).item<double>();
                if (time < low || time > high) return unet.forward(x, t, labels);
            }
            using var scope = NewDisposeScope();
            long b = x.shape[0];
            Tensor none = full([b], unet.NoLabel, dtype: ScalarType.Int64, device: x.device);
            Tensor both = unet.forward(cat([x, x], 0), cat([t, t], 0), cat([labels, none], 0));   // (2B, C, 4, 4)
            Tensor conditional = both.narrow(0, 0, b), unconditional = both.narrow(0, b, b);
            return unconditional.add(conditional.sub(unconditional).mul_(w)).MoveToOuterDisposeScope();
        };
    }

    /// <summary>Labels with each entry replaced by "no label" (index <paramref name="noLabel"/>) with probability <paramref name="p"/>, drawn from <paramref name="generator"/>.</summary>
    public static Tensor DropLabels(Tensor labels, double p, long noLabel, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor drop = rand([labels.shape[0]], device: labels.device, generator: generator).lt(p);
        return where(drop, full_like(labels, noLabel), labels).MoveToOuterDisposeScope();
    }
}
