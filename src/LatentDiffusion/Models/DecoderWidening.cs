using static TorchSharp.torch;

namespace LatentDiffusion.Models;

/// <summary>
/// A decoder made k times wider that computes what the narrow one did: Net2WiderNet (Chen et al. 2016, "Net2Net", §3.1,
/// eq. 6-7) with each hidden channel copied k times. A convolution's output channel j of the wide decoder is the narrow
/// one's j mod c (weights, bias, BatchNorm's parameters and running statistics copied), and a convolution reading the
/// copies gets the narrow input weights divided by k, so the k copies sum to the narrow value. Copies would get equal
/// gradients and stay copies; so each copy's input weights also get a perturbation δ_m whose k values sum to zero: the
/// function is still the narrow decoder's (the copies are equal, the δ cancel), their gradients differ from the first
/// step. Training then starts from the narrow decoder's reconstructions, with k² the parameters in the hidden levels.
/// </summary>
public static class DecoderWidening
{
    /// <summary>Scale of δ against the weights' own standard deviation.</summary>
    public const double Perturbation = 0.01;

    /// <summary>
    /// Copies <paramref name="narrow"/>'s decoder into <paramref name="wide"/>'s (whose every hidden width is an integer
    /// multiple of the narrow one's, the input and output widths equal), δ drawn from <paramref name="generator"/>.
    /// </summary>
    public static void Widen(ConvDecoder narrow, ConvDecoder wide, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(narrow);
        ArgumentNullException.ThrowIfNull(wide);
        var from = narrow.state_dict();
        var to = wide.state_dict();
        if (!from.Keys.Order(StringComparer.Ordinal).SequenceEqual(to.Keys.Order(StringComparer.Ordinal)))
            throw new ArgumentException("the two decoders differ in their layers, not only in their widths");
        using var noGrad = no_grad();
        foreach (string key in from.Keys.Order(StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            Tensor source = from[key], target = to[key];
            target.copy_(Widened(key, source, target.shape, generator));
        }
    }

    /// <summary>One tensor: tiled along every widened dimension; a 4-D weight's input dimension (1) divided and perturbed.</summary>
    static Tensor Widened(string key, Tensor source, long[] shape, Generator generator)
    {
        if (source.dim() != shape.Length) throw new ArgumentException($"{key}: {source.dim()}-D against {shape.Length}-D");
        Tensor t = source.detach();
        for (int d = 0; d < shape.Length; d++)
        {
            long narrow = t.shape[d];
            if (shape[d] == narrow) continue;
            if (shape[d] % narrow != 0) throw new ArgumentException($"{key}: dimension {d} goes from {narrow} to {shape[d]}, not a multiple");
            long k = shape[d] / narrow;
            if (d == 1 && shape.Length == 4) t = Consumer(t, k, generator);            // (out, in, kh, kw) → (out, k·in, kh, kw)
            else t = t.repeat([.. Enumerable.Range(0, shape.Length).Select(i => i == d ? k : 1L)]);
        }
        return t;
    }

    /// <summary>Input weights of k copies: W/k + δ_m, Σ_m δ_m = 0, copy m at channels [m·in, (m+1)·in).</summary>
    static Tensor Consumer(Tensor weight, long k, Generator generator)
    {
        long[] shape = weight.shape;                                                     // (out, in, kh, kw)
        double scale = Perturbation * weight.std().item<float>() / k;
        Tensor delta = randn([k, .. shape], dtype: weight.dtype, generator: generator).mul_(scale);   // (k, out, in, kh, kw)
        delta = delta.sub(delta.mean([0], keepdim: true));
        Tensor copies = weight.div(k).unsqueeze(0).add(delta);                           // (k, out, in, kh, kw)
        return copies.permute(1, 0, 2, 3, 4).reshape(shape[0], k * shape[1], shape[2], shape[3]);
    }
}
