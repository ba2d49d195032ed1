using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>
/// Part 2's <c>ConvEncoder</c>, generic over a feature list: level i (i ≥ 1) halves the resolution with a 2x2 max
/// pool, then two <see cref="ConvBlock"/>s take features[i] → features[i+1] → features[i+1]. Level 0 has no pool.
/// With [1, 8, 16, 32, 4]: (B, 1, 32, 32) → (B, 8, 32, 32) → (B, 16, 16, 16) → (B, 32, 8, 8) → (B, 4, 4, 4).
/// Keys: <c>layers.{i}.{j}._conv.weight</c>, …, as the post's <c>ModuleList</c> of <c>Sequential</c>s.
/// </summary>
public sealed class ConvEncoder : Module<Tensor, Tensor>
{
    private readonly ModuleList<Module<Tensor, Tensor>> layers;

    public ConvEncoder(IReadOnlyList<int> features) : base(nameof(ConvEncoder))
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count < 2) throw new ArgumentException("an encoder needs at least two feature counts", nameof(features));
        Features = features.ToArray();
        layers = new ModuleList<Module<Tensor, Tensor>>();
        for (int i = 0; i < features.Count - 1; i++)
        {
            int fi = features[i], fo = features[i + 1];
            var level = new List<Module<Tensor, Tensor>>();
            if (i > 0) level.Add(nn.MaxPool2d(2));                   // (B, fi, H/2, W/2)
            level.Add(new ConvBlock(fi, fo));                          // (B, fo, ·, ·)
            level.Add(new ConvBlock(fo, fo));
            layers.Add(nn.Sequential(level));
        }
        RegisterComponents();
    }

    /// <summary>The feature list this encoder was built from.</summary>
    public IReadOnlyList<int> Features { get; }

    /// <summary>Number of halvings: the latent is 2^levels times smaller than the input on each side.</summary>
    public int Downsamplings => Features.Count - 2;

    /// <summary>
    /// Run in the channels-last (NHWC) layout instead of NCHW (default): the same forward values to float rounding, and
    /// faster training steps on CPU (bench/README.md): in training mode each block's
    /// BatchNorm + LeakyReLU runs as <see cref="FusedBatchNormLeakyRelu"/> (for a multiple of 8 channels), whose gradients are as close to
    /// float64 as NCHW's (libtorch's own channels-last BatchNorm sums in float32 row after row and is not:
    /// ChannelsLastTests). Set by <see cref="VaeConfig.ChannelsLast"/> /
    /// <see cref="AutoencoderConfig.ChannelsLast"/>. A layout, not a weight: not saved.
    /// </summary>
    public bool ChannelsLastLayout { get; set; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = ChannelsLastLayout ? ChannelsLast.Of(x) : x;   // NHWC: libtorch keeps the layout through conv, norm, pool, upsample
        foreach (var layer in layers) h = layer.forward(h);
        return h.MoveToOuterDisposeScope();
    }
}
