using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Export.Onnx;

/// <summary>
/// Our TorchSharp layers as ONNX nodes (opset 17, onnx/docs/Operators.md), in eval-mode semantics: BatchNorm with its
/// running statistics, Dropout as identity. Each method takes the input value's name, adds the initializers
/// (named by the prefix + the PyTorch key, e.g. <c>down.0.1._conv.weight</c>) and nodes, and returns the
/// output value's name. Every convolution of these models has stride 1 and 'same' padding for an odd kernel.
/// </summary>
public static class OnnxLayers
{
    /// <summary>Conv (k×k, stride 1, pads k/2 on each side: PyTorch's padding 'same' for an odd k). (B, in, H, W) → (B, out, H, W).</summary>
    public static string Conv(OnnxGraph g, string x, Conv2d conv, string prefix)
    {
        Tensor weight = conv.weight ?? throw new ArgumentException($"{prefix}: convolution without weights");
        long[] shape = weight.shape;                                                   // (out, in, k, k)
        long k = shape[2];
        if (k != shape[3] || k % 2 == 0) throw new ArgumentException($"{prefix}: only square odd kernels export (got {shape[2]}x{shape[3]})");
        string w = g.Initializer(prefix + "weight", Floats(weight), shape);
        string[] inputs = conv.bias is { } bias ? [x, w, g.Initializer(prefix + "bias", Floats(bias), shape[0])] : [x, w];
        return g.Node("Conv", inputs, null,
            OnnxAttribute.Ints("kernel_shape", k, k), OnnxAttribute.Ints("pads", k / 2, k / 2, k / 2, k / 2), OnnxAttribute.Ints("strides", 1, 1));
    }

    /// <summary>BatchNormalization in inference mode: (x − running mean)/√(running var + ε)·γ + β (opset 15).</summary>
    public static string BatchNorm(OnnxGraph g, string x, BatchNorm2d norm, string prefix)
    {
        Tensor mean = norm.running_mean ?? throw new ArgumentException($"{prefix}: batch norm without running statistics");
        Tensor variance = norm.running_var!;
        long c = mean.shape[0];
        return g.Node("BatchNormalization",
            [x, g.Initializer(prefix + "weight", Floats(norm.weight!), c), g.Initializer(prefix + "bias", Floats(norm.bias!), c),
             g.Initializer(prefix + "running_mean", Floats(mean), c), g.Initializer(prefix + "running_var", Floats(variance), c)],
            null, OnnxAttribute.Float("epsilon", (float)norm.eps));
    }

    /// <summary>
    /// InstanceNormalization without affine parameters (PyTorch's InstanceNorm2d defaults): the operator requires a scale
    /// and a bias, given as ones and zeros; ε 1e-5. Per sample and channel over H, W, with the biased variance, as PyTorch.
    /// </summary>
    public static string InstanceNorm(OnnxGraph g, string x, long channels, string prefix)
    {
        string scale = g.Initializer(prefix + "ones", Enumerable.Repeat(1f, (int)channels).ToArray(), channels);
        string bias = g.Initializer(prefix + "zeros", new float[channels], channels);
        return g.Node("InstanceNormalization", [x, scale, bias], null, OnnxAttribute.Float("epsilon", 1e-5f));
    }

    /// <summary>Linear as Gemm: A·Bᵀ + C with B the (out, in) weight. (B, in) → (B, out).</summary>
    public static string Linear(OnnxGraph g, string x, Linear linear, string prefix)
    {
        long[] shape = linear.weight!.shape;
        string w = g.Initializer(prefix + "weight", Floats(linear.weight), shape);
        string b = g.Initializer(prefix + "bias", Floats(linear.bias ?? zeros(shape[0])), shape[0]);
        return g.Node("Gemm", [x, w, b], null, OnnxAttribute.Int("transB", 1));
    }

    /// <summary>An embedding lookup as Gather on axis 0: labels (B,) int64 → (B, dim).</summary>
    public static string Embedding(OnnxGraph g, string indices, Embedding embedding, string prefix)
    {
        string table = g.Initializer(prefix + "weight", Floats(embedding.weight!), embedding.weight!.shape);
        return g.Node("Gather", [table, indices], null, OnnxAttribute.Int("axis", 0));
    }

    public static string LeakyRelu(OnnxGraph g, string x, double slope) =>
        g.Node("LeakyRelu", [x], null, OnnxAttribute.Float("alpha", (float)slope));

    public static string Relu(OnnxGraph g, string x) => g.Node("Relu", [x]);

    /// <summary>A k×k pool with stride k, no padding (MaxPool or AveragePool).</summary>
    public static string Pool(OnnxGraph g, string op, string x, long k) =>
        g.Node(op, [x], null, OnnxAttribute.Ints("kernel_shape", k, k), OnnxAttribute.Ints("strides", k, k));

    /// <summary>
    /// Nearest-neighbour 2x upsampling as Resize (opset 13+): scales (1, 1, 2, 2), 'asymmetric' coordinates with 'floor'
    /// rounding, i.e. output (i, j) reads input (⌊i/2⌋, ⌊j/2⌋): PyTorch's mode 'nearest'.
    /// </summary>
    public static string Upsample2x(OnnxGraph g, string x)
    {
        string scales = Constant(g, "upsample_scales", [1f, 1f, 2f, 2f]);
        return g.Node("Resize", [x, "", scales], null,
            OnnxAttribute.String("mode", "nearest"), OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
            OnnxAttribute.String("nearest_mode", "floor"));
    }

    /// <summary>Unsqueeze at <paramref name="axes"/> (axes as an int64 input since opset 13).</summary>
    public static string Unsqueeze(OnnxGraph g, string x, params long[] axes) =>
        g.Node("Unsqueeze", [x, Constant(g, "axes", axes)]);

    /// <summary>A float32 constant of shape (n,), under a fresh name.</summary>
    public static string Constant(OnnxGraph g, string stem, float[] values) => g.Initializer(g.Fresh(stem), values, values.Length);

    /// <summary>An int64 constant of shape (n,), under a fresh name.</summary>
    public static string Constant(OnnxGraph g, string stem, long[] values) => g.Initializer(g.Fresh(stem), values, values.Length);

    /// <summary>A parameter or buffer's values, float32, in row-major order.</summary>
    public static float[] Floats(Tensor t)
    {
        using Tensor host = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return host.data<float>().ToArray();
    }
}
