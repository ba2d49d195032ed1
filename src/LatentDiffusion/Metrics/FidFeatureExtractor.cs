using LatentDiffusion.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// <see cref="Classifier.Features"/> for inference only, the same numbers about twice as fast on CPU; FID spends
/// nearly all its time here. It runs the classifier's own three convolutions (the module's weights, not a copy), and
/// reorders what is free to reorder:
/// <list type="bullet">
/// <item>2x2 max pooling as the maximum of the even and odd rows, then of the even and odd columns — two strided
/// element-wise maxima, which libtorch runs several times faster than <c>max_pool2d</c> on these small NCHW maps;</item>
/// <item>ReLU after the pooling instead of before, in place: ReLU is monotonic, so max(relu(a), relu(b)) =
/// relu(max(a, b)) exactly, and it then touches a quarter of the values.</item>
/// </list>
/// Up to the third convolution nothing else differs, so the features are bitwise those of <see cref="Classifier.Features"/>
/// (a test holds it to that). Call under <c>no_grad</c>; Dropout (layer 10) is never reached, so train/eval mode
/// does not matter.
/// </summary>
public sealed class FidFeatureExtractor
{
    readonly Conv2d conv1, conv2, conv3;   // layers 0, 3, 6 of the classifier
    readonly FeatureKind kind;

    public FidFeatureExtractor(Classifier classifier, FeatureKind kind = FeatureKind.PreAct)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        conv1 = ConvAt(classifier, 0);
        conv2 = ConvAt(classifier, 3);
        conv3 = ConvAt(classifier, Classifier.ThirdConv);
        this.kind = kind;
    }

    public FeatureKind Kind => kind;

    /// <summary>(B, 1, 32, 32) → (B, 128).</summary>
    public Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = Conv(conv1, x);                   // (B, 8, 32, 32)
        h = MaxPool2x2(h).relu_();                   // (B, 8, 16, 16)
        h = Conv(conv2, h);                          // (B, 16, 16, 16)
        h = MaxPool2x2(h).relu_();                   // (B, 16, 8, 8)
        h = Conv(conv3, h);                          // (B, 32, 8, 8), layer 6 output
        if (kind == FeatureKind.Flatten) h = h.relu_();  // layer 7; PreAct stops before it
        h = nn.functional.avg_pool2d(h, 4, 4);       // (B, 32, 2, 2)
        return h.flatten(1).MoveToOuterDisposeScope();   // (B, 128)
    }

    /// <summary>2x2 max pooling with stride 2 of (B, C, H, W), H and W even: max over row pairs, then column pairs.</summary>
    public static Tensor MaxPool2x2(Tensor x)
    {
        using var scope = NewDisposeScope();
        TensorIndex even = TensorIndex.Slice(0, null, 2), odd = TensorIndex.Slice(1, null, 2), all = TensorIndex.Colon;
        Tensor rows = maximum(x[all, all, even, all], x[all, all, odd, all]);             // (B, C, H/2, W)
        Tensor pooled = maximum(rows[all, all, all, even], rows[all, all, all, odd]);      // (B, C, H/2, W/2)
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>A 3x3 'same' convolution with the module's weights: padding 1 is what Padding.Same means for 3x3, stride 1.</summary>
    static Tensor Conv(Conv2d conv, Tensor x) => nn.functional.conv2d(x, conv.weight!, conv.bias, padding: [1, 1]);

    static Conv2d ConvAt(Classifier classifier, int index)
    {
        if (classifier.Layers[index] is not Conv2d conv || conv.weight is null || conv.weight.dim() != 4 ||
            conv.weight.shape[2] != 3 || conv.weight.shape[3] != 3)
            throw new ArgumentException($"layer {index} of the classifier is not the 3x3 convolution of the part-1 architecture");
        return conv;
    }
}
