using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>
/// Part 3's time-conditioned conv block (the post's <c>UnetConvBlock</c>): Conv2d(k 3, 'same') → InstanceNorm2d
/// (no affine, no running statistics) → + Linear(LeakyReLU(t_emb)) broadcast over H, W → LeakyReLU(0.01). The time
/// is added after the norm and before the activation, as in the post. Keys <c>_conv.*</c>, <c>_emb_linear.*</c>.
/// (B, fin, H, W), (B, tin) → (B, fout, H, W).
/// </summary>
public sealed class TimeEmbeddingConvBlock : Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Conv2d _conv;
    private readonly InstanceNorm2d _norm;
    private readonly LeakyReLU _relu;
    private readonly Linear _emb_linear;
#pragma warning restore IDE1006

    public TimeEmbeddingConvBlock(long fin, long fout, long tin, long kernelSize = 3) : base(nameof(TimeEmbeddingConvBlock))
    {
        _conv = nn.Conv2d(fin, fout, kernelSize, padding: Padding.Same);
        _norm = nn.InstanceNorm2d(fout);                  // PyTorch's defaults: eps 1e-5, affine False, track_running_stats False
        _relu = nn.LeakyReLU(0.01);
        _emb_linear = nn.Linear(tin, fout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor timeEmbedding)
    {
        using var scope = NewDisposeScope();
        Tensor t = _emb_linear.forward(_relu.forward(timeEmbedding));        // (B, fout)
        Tensor h = _norm.forward(_conv.forward(x));                           // (B, fout, H, W)
        h = h.add(t.unsqueeze(-1).unsqueeze(-1));
        return _relu.forward(h).MoveToOuterDisposeScope();
    }
}
