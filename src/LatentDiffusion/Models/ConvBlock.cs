using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>
/// Part 2's <c>ConvBlock</c>: Conv2d(k 3, padding 'same') → BatchNorm2d → LeakyReLU(0.01). The fields keep the post's
/// names, so the state_dict keys are <c>_conv.weight</c>, <c>_conv.bias</c>, <c>_norm.weight</c>, <c>_norm.bias</c>,
/// <c>_norm.running_mean</c>, <c>_norm.running_var</c> and <c>_norm.num_batches_tracked</c>, as in PyTorch.
/// (B, fin, H, W) → (B, fout, H, W).
/// </summary>
public sealed class ConvBlock : Module<Tensor, Tensor>
{
    // Named as the post's attributes (PyTorch key names), hence the underscores.
#pragma warning disable IDE1006
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _norm;
    private readonly LeakyReLU _relu;
#pragma warning restore IDE1006

    /// <summary>The leaky ReLU's negative slope (PyTorch's default, as the post).</summary>
    public const double Slope = 0.01;

    public ConvBlock(long fin, long fout, long kernelSize = 3) : base(nameof(ConvBlock))
    {
        _conv = nn.Conv2d(fin, fout, kernelSize, padding: Padding.Same);
        _norm = nn.BatchNorm2d(fout);
        _relu = nn.LeakyReLU(Slope, inplace: true);   // in place on the norm's fresh output: same values and gradients
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = _conv.forward(x);
        if (FusedBatchNormLeakyRelu.Applies(h, _norm))                          // channels-last, 8 channels, training
            return FusedBatchNormLeakyRelu.Apply(h, _norm, Slope).MoveToOuterDisposeScope();
        h = _norm.forward(h);
        return _relu.forward(h).MoveToOuterDisposeScope();
    }
}
