using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Export.Onnx;

/// <summary>
/// Part 1's <see cref="Classifier"/> (or one for C channels, N classes, S px: the shapes come from its config): <c>image</c>
/// (B, 1, 32, 32) in [0, 1] → <c>logits</c> (B, 10) and
/// <c>features</c> (B, 128), the PreAct features MNIST-FID uses (<see cref="Classifier.Features"/>: the third
/// convolution's output before its ReLU, average-pooled 4x4). The blog's layer order; Dropout is the identity in eval mode.
/// </summary>
public sealed class ClassifierOnnx : IOnnxModelExport
{
    public string Architecture => nameof(Classifier);

    public IReadOnlyList<(string Suffix, OnnxGraph Graph)> Build(string path)
    {
        using Classifier classifier = ModelFile.LoadClassifier(path);
        using var noGrad = no_grad();
        OnnxGraph g = Graph(classifier);
        g.DocString = $"part 1's MNIST classifier {Path.GetFileName(path)}: image → logits, FID features";
        g.Metadata[OnnxExport.ModelKey] = JsonSerializer.Serialize(new
        {
            kind = OnnxExport.ClassifierKind,
            image_shape = new[] { classifier.Config.Channels, classifier.Config.Resolution, classifier.Config.Resolution },
            class_names = ModelFile.ReadData(path)?.ClassNames.ToArray()
                ?? Enumerable.Range(0, classifier.Config.Classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
            feature_dim = Classifier.FeatureDim,
        }, OnnxExport.Json);
        return [("", g)];
    }

    public static OnnxGraph Graph(Classifier classifier)
    {
        var g = new OnnxGraph("classifier");
        ClassifierConfig shape = classifier.Config;
        string h = g.Input("image", OnnxType.Float, null, shape.Channels, shape.Resolution, shape.Resolution);
        string? features = null;
        int index = 0;
        foreach (var layer in classifier.Layers.children())
        {
            string key = $"layers.{index}.";
            h = layer switch
            {
                Conv2d conv => OnnxLayers.Conv(g, h, conv, key),
                ReLU => OnnxLayers.Relu(g, h),
                MaxPool2d => OnnxLayers.Pool(g, "MaxPool", h, 2),
                AvgPool2d => OnnxLayers.Pool(g, "AveragePool", h, 4),
                Flatten => g.Node("Flatten", [h], null, OnnxAttribute.Int("axis", 1)),
                Dropout => h,
                Linear linear => OnnxLayers.Linear(g, h, linear, key),
                _ => throw new NotSupportedException($"{key}: no ONNX export for {layer.GetType().Name}"),
            };
            if (index == 5 && shape.Resolution == 64) h = OnnxLayers.Pool(g, "MaxPool", h, 2);   // the extra pool at 64 px
            if (index == Classifier.ThirdConv)                                                  // (B, 32, 8, 8), before layer 7's ReLU
                features = g.Node("Flatten", [OnnxLayers.Pool(g, "AveragePool", h, 4)], "features", OnnxAttribute.Int("axis", 1));   // (B, 128)
            index++;
        }
        h = g.Node("Identity", [h], "logits");
        g.Output(h, OnnxType.Float, null, shape.Classes);
        g.Output(features ?? throw new InvalidOperationException("the classifier has no third convolution"), OnnxType.Float, null, Classifier.FeatureDim);
        return g;
    }
}
