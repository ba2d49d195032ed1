using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>
/// Part 2's <c>ConvDecoder</c>, generic over a feature list (the encoder's reversed): level i (i ≥ 1) doubles the
/// resolution (nearest) and applies ConvBlock(fi → fi); every level but the last then has ConvBlock(fi → fi),
/// ConvBlock(fi → fo); the last has ConvBlock(fi → fi) and a 1x1 Conv2d(fi → fo) with no activation, so the output is
/// unbounded (the post clips to [0, 1] only when generating). With [4, 32, 16, 8, 1]:
/// (B, 4, 4, 4) → (B, 32, 4, 4) → (B, 16, 8, 8) → (B, 8, 16, 16) → (B, 1, 32, 32).
/// </summary>
public sealed class ConvDecoder : Module<Tensor, Tensor>
{
    private readonly ModuleList<Module<Tensor, Tensor>> layers;

    public ConvDecoder(IReadOnlyList<int> features) : base(nameof(ConvDecoder))
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count < 2) throw new ArgumentException("a decoder needs at least two feature counts", nameof(features));
        Features = features.ToArray();
        layers = new ModuleList<Module<Tensor, Tensor>>();
        for (int i = 0; i < features.Count - 1; i++)
        {
            int fi = features[i], fo = features[i + 1];
            var level = new List<Module<Tensor, Tensor>>();
            if (i > 0)
            {
                level.Add(nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest));   // (B, fi, 2H, 2W)
                level.Add(new ConvBlock(fi, fi));
            }
            level.Add(new ConvBlock(fi, fi));
            if (i < features.Count - 2)
                level.Add(new ConvBlock(fi, fo));                                               // (B, fo, ·, ·)
            else
                level.Add(nn.Conv2d(fi, fo, 1, padding: Padding.Same));                         // output, no norm or activation
            layers.Add(nn.Sequential(level));
        }
        RegisterComponents();
    }

    /// <summary>The feature list this decoder was built from.</summary>
    public IReadOnlyList<int> Features { get; }

    /// <summary>(B, features[0], h, w) → (B, features[^1], h·2^levels, w·2^levels), contiguous NCHW.</summary>
    /// <summary>
    /// Run in the channels-last (NHWC) layout instead of NCHW (default): the same forward values to float rounding, and
    /// faster training steps on CPU (bench/README.md): in training mode each block's
    /// BatchNorm + LeakyReLU runs as <see cref="FusedBatchNormLeakyRelu"/> (for a multiple of 8 channels), whose gradients are as close to
    /// float64 as NCHW's (libtorch's own channels-last BatchNorm sums in float32 row after row and is not:
    /// ChannelsLastTests). Set by <see cref="VaeConfig.ChannelsLast"/> /
    /// <see cref="AutoencoderConfig.ChannelsLast"/>. A layout, not a weight: not saved.
    /// </summary>
    public bool ChannelsLastLayout { get; set; }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor h = ChannelsLastLayout ? ChannelsLast.Of(z) : z;   // NHWC: libtorch keeps the layout through conv, norm, pool, upsample
        if (is_grad_enabled())
        {
            foreach (var layer in layers) h = layer.forward(h);
            return h.contiguous().MoveToOuterDisposeScope();
        }
        // Without autograd nothing keeps an activation for a backward pass: each is freed as soon as the next exists, so
        // the allocator hands the same few blocks back while they are still in cache (the same ops, the same bits).
        foreach (var layer in layers)
            foreach (var block in layer.children().Cast<Module<Tensor, Tensor>>())
            {
                Tensor next = block.forward(h);
                if (!ReferenceEquals(h, z) && !ReferenceEquals(h, next)) h.Dispose();
                h = next;
            }
        return h.contiguous().MoveToOuterDisposeScope();
    }
}
