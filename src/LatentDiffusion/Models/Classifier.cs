using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>Which 128-d vector <see cref="Classifier.Features"/> returns.</summary>
public enum FeatureKind
{
    /// <summary>Part 1's definition: layers 0..6 (third conv, before its ReLU), then avg_pool2d(4,4), flattened.</summary>
    PreAct,
    /// <summary>Part 3's wording: the flattened output of layer 9 (after the ReLU and the average pool).</summary>
    Flatten,
}

/// <summary>
/// The MNIST classifier of part 1 of the series, layer for layer, so the PyTorch state_dict keys
/// (<c>layers.0.weight</c> … <c>layers.15.bias</c>) match. Input (B, 1, 32, 32) in [0, 1]; output (B, 10) logits.
/// 16554 parameters. For other data (<see cref="ClassifierConfig"/>): C input channels, N logits, and at 64 px one more
/// 2x2 max pool after layer 5 (no weights, so the keys stay the same), which brings the third conv back to 8x8 and
/// the features to 128-d.
/// </summary>
public sealed class Classifier : Module<Tensor, Tensor>
{
    /// <summary>Indices of the pooling layers whose activations the report shows.</summary>
    public static readonly int[] PoolingLayers = [2, 5, 8];

    /// <summary>Index of the third convolution; features are taken from its output, before layer 7's ReLU.</summary>
    public const int ThirdConv = 6;

    /// <summary>Parameter count of the published architecture.</summary>
    public const long ExpectedParameterCount = 16554;

    /// <summary>Size of the FID feature vector: 32 channels x 2 x 2.</summary>
    public const int FeatureDim = 128;

    private readonly Sequential layers;

    public Classifier() : this(ClassifierConfig.Part1) { }

    public Classifier(ClassifierConfig config) : base(nameof(Classifier))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        layers = nn.Sequential(
            ("0", nn.Conv2d(config.Channels, 8, 3, padding: Padding.Same)),   // (B, 8, 32, 32)
            ("1", nn.ReLU()),
            ("2", nn.MaxPool2d(2, 2)),                             // (B, 8, 16, 16)
            ("3", nn.Conv2d(8, 16, 3, padding: Padding.Same)),    // (B, 16, 16, 16)
            ("4", nn.ReLU()),
            ("5", nn.MaxPool2d(2, 2)),                             // (B, 16, 8, 8)
            ("6", nn.Conv2d(16, 32, 3, padding: Padding.Same)),   // (B, 32, 8, 8)
            ("7", nn.ReLU()),
            ("8", nn.AvgPool2d(4, 4)),                             // (B, 32, 2, 2)
            ("9", nn.Flatten()),                                   // (B, 128)
            ("10", nn.Dropout(0.5)),
            ("11", nn.Linear(128, 64)),
            ("12", nn.ReLU()),
            ("13", nn.Linear(64, 32)),
            ("14", nn.ReLU()),
            ("15", nn.Linear(32, config.Classes)));                // (B, 10)
        RegisterComponents();
    }

    public ClassifierConfig Config { get; }

    /// <summary>At 64 px: (B, 16, 16, 16) → (B, 16, 8, 8) after layer 5; at 32 px nothing.</summary>
    Tensor ExtraPool(Tensor h) => Config.Resolution == 64 ? nn.functional.max_pool2d(h, 2, 2) : h;

    /// <summary>The layers in order, as in the blog's <c>nn.Sequential</c>.</summary>
    public Sequential Layers => layers;

    /// <summary>
    /// The layers in order, except that each ReLU before a 2x2 max pool runs after it, in place: ReLU is monotonic, so
    /// maxpool(relu(h)) = relu(maxpool(h)) value for value, and the gradient reaches the same input (the pool's first
    /// maximum; where the maximum is ≤ 0 both orders pass zero). It then touches a quarter of the values, forward and
    /// backward: a cheaper training batch on CPU (bench/README.md). <see cref="ForwardThrough"/> keeps the
    /// blog's order for per-layer activations.
    /// The trunk runs channels-last (<see cref="ChannelsLast"/>): the same values to float rounding (a few 1e-7
    /// relative), and a cheaper training batch (bench/README.md).
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = Trunk(x).relu_();                          // layer 7: (B, 32, 8, 8)
        for (int i = 8; i < layers.Count; i++) h = Layer(i).forward(h);   // pool, flatten, dropout, MLP → (B, 10)
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Layers 0..6 in the reordered form described on <see cref="forward"/>: the third conv's output, before its ReLU.</summary>
    Tensor Trunk(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = Layer(0).forward(ChannelsLast.Of(x));      // (B, 8, 32, 32), NHWC from here on
        h = Layer(2).forward(h).relu_();                      // layers 2, 1: (B, 8, 16, 16)
        h = Layer(3).forward(h);                              // (B, 16, 16, 16)
        h = ExtraPool(Layer(5).forward(h).relu_());           // layers 5, 4: (B, 16, 8, 8)
        h = Layer(ThirdConv).forward(h);                      // layer 6: (B, 32, 8, 8)
        return h.MoveToOuterDisposeScope();
    }

    Module<Tensor, Tensor> Layer(int index) => (Module<Tensor, Tensor>)layers[index];

    /// <summary>Runs layers 0..<paramref name="last"/> inclusive and returns that layer's output.</summary>
    public Tensor ForwardThrough(Tensor x, int last)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(last);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(last, layers.Count);
        using var scope = NewDisposeScope();
        Tensor h = ChannelsLast.Of(x);                        // as in forward, so both compute the same numbers
        for (int i = 0; i <= last; i++)
        {
            h = ((Module<Tensor, Tensor>)layers[i]).forward(h);
            if (i == 5) h = ExtraPool(h);
        }
        return h.contiguous().MoveToOuterDisposeScope();      // NCHW order for the caller
    }

    /// <summary>
    /// The third convolution's map (B, C, S, S) → (B, 32, 8, 8), before its ReLU: the map the 128-d features average
    /// 4x4-wise, kept whole so a perceptual loss compares where each feature fires, not only how much. Differentiable
    /// with respect to <paramref name="x"/>; NCHW order.
    /// </summary>
    public Tensor FeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Trunk(x).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The 128-d FID features of a batch (B, C, S, S) → (B, 128). Call in eval mode under no_grad; the result
    /// does not depend on Dropout since it is taken before layer 10.
    /// </summary>
    public Tensor Features(Tensor x, FeatureKind kind = FeatureKind.PreAct)
    {
        using var scope = NewDisposeScope();
        Tensor h = Trunk(x);                                             // (B, 32, 8, 8), before layer 7's ReLU
        if (kind == FeatureKind.Flatten) h = h.relu_();                  // layer 7
        Tensor pooled = nn.functional.avg_pool2d(h, 4, 4);               // (B, 32, 2, 2)
        return pooled.flatten(1).MoveToOuterDisposeScope();              // (B, 128)
    }

    /// <summary>
    /// Logits (B, 10) and PreAct features (B, 128) of a batch from one pass through the trunk: what
    /// <see cref="forward"/> and <see cref="Features"/> return, bitwise, for the price of one. Call in eval mode.
    /// </summary>
    public (Tensor Logits, Tensor Features) LogitsAndFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor trunk = Trunk(x);                                         // (B, 32, 8, 8), before layer 7's ReLU
        Tensor features = nn.functional.avg_pool2d(trunk, 4, 4).flatten(1);   // (B, 128), a new tensor
        Tensor h = trunk.relu_();                                        // layer 7, in place: features are already taken
        for (int i = 8; i < layers.Count; i++) h = Layer(i).forward(h);  // → (B, 10)
        return (h.MoveToOuterDisposeScope(), features.MoveToOuterDisposeScope());
    }

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());
}
