using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using TorchSharp.Modules;
using static LatentDiffusion.Export.Onnx.OnnxModules;
using static TorchSharp.torch;

namespace LatentDiffusion.Export.Onnx;

/// <summary>
/// A <see cref="Vae"/> as two graphs. The decoder: <c>z</c> (B, C, 4, 4) → <c>image</c> (B, 1, 32, 32), unbounded (the
/// runtime divides by the diffusion model's latent scale before and clips to [0, 1] after, as the library does). The
/// encoder: <c>image</c> (B, 1, 32, 32) → <c>mu</c>, <c>sigma</c> (B, C, 4, 4), <see cref="Vae.Encode"/>'s posterior.
/// BatchNorm in eval mode (running statistics). The layout (channels-last or not) is not part of a graph.
/// </summary>
public sealed class VaeOnnx : IOnnxModelExport
{
    public string Architecture => nameof(Vae);

    public IReadOnlyList<(string Suffix, OnnxGraph Graph)> Build(string path)
    {
        using Vae vae = ModelFile.LoadVae(path);
        using var noGrad = no_grad();
        long[] latent = vae.LatentShape;
        string config = JsonSerializer.Serialize(vae.Config);
        OnnxGraph decoder = Decoder(vae), encoder = Encoder(vae);
        foreach (var (g, kind) in new[] { (decoder, OnnxExport.DecoderKind), (encoder, OnnxExport.EncoderKind) })
        {
            g.DocString = $"the VAE {Path.GetFileName(path)}'s {(kind == OnnxExport.DecoderKind ? "decoder: latent → image" : "encoder: image → posterior (μ, σ)")}";
            g.Metadata[OnnxExport.ModelKey] = JsonSerializer.Serialize(new { kind, latent_shape = latent, image_shape = vae.ImageShape }, OnnxExport.Json);
            g.Metadata[OnnxExport.ConfigKey] = config;
        }
        return [(".decoder", decoder), (".encoder", encoder)];
    }

    /// <summary><see cref="ConvDecoder"/>'s levels: upsample, ConvBlocks, the 1x1 output convolution.</summary>
    public static OnnxGraph Decoder(Vae vae)
    {
        var g = new OnnxGraph("vae_decoder");
        long[] latent = vae.LatentShape;
        string z = g.Input("z", OnnxType.Float, null, latent[0], latent[1], latent[2]);
        string h = Levels(g, z, vae.Decoder, "decoder.");
        h = g.Node("Identity", [h], "image");
        g.Output(h, OnnxType.Float, [null, .. vae.ImageShape.Select(v => (long?)v)]);                // (B, C, S, S)
        return g;
    }

    /// <summary><see cref="ConvEncoder"/>'s levels, the head, and μ, σ from the two halves of the channels.</summary>
    public static OnnxGraph Encoder(Vae vae)
    {
        var g = new OnnxGraph("vae_encoder");
        long[] latent = vae.LatentShape;
        long c = latent[0];
        string x = g.Input("image", OnnxType.Float, [null, .. vae.ImageShape.Select(v => (long?)v)]);   // (B, C, S, S)
        string h = Levels(g, x, vae.Encoder, "encoder.");                                        // (B, 2C or head, 4, 4)
        if (vae.Config.HeadChannels > 0) h = OnnxLayers.Conv(g, h, Child<Conv2d>(vae, "head"), "head.");   // (B, 2C, 4, 4)
        string[] halves = g.Nodes("Split", [h, OnnxLayers.Constant(g, "split", [c, c])], [g.Fresh("mu_half"), g.Fresh("second_half")], OnnxAttribute.Int("axis", 1));
        string mu = g.Node("Identity", [halves[0]], "mu");
        string sigma = vae.Config.Sigma == SigmaParameterization.Raw
            ? g.Node("Identity", [halves[1]], "sigma")
            : g.Node("Exp", [g.Node("Mul", [halves[1], OnnxLayers.Constant(g, "half", [0.5f])])], "sigma");   // σ = exp(½ log σ²)
        g.Output(mu, OnnxType.Float, null, c, latent[1], latent[2]);
        g.Output(sigma, OnnxType.Float, null, c, latent[1], latent[2]);
        return g;
    }

    /// <summary>The ModuleList of Sequentials shared by <see cref="ConvEncoder"/> and <see cref="ConvDecoder"/>.</summary>
    static string Levels(OnnxGraph g, string x, nn.Module coder, string prefix)
    {
        string h = x;
        foreach (var (i, level) in Children(Child<nn.Module>(coder, "layers")))
            foreach (var (j, layer) in Children(level))
            {
                string key = $"{prefix}layers.{i}.{j}.";
                h = layer switch
                {
                    ConvBlock block => ConvBlock(g, h, block, key),
                    MaxPool2d => OnnxLayers.Pool(g, "MaxPool", h, 2),
                    Upsample => OnnxLayers.Upsample2x(g, h),
                    Conv2d conv => OnnxLayers.Conv(g, h, conv, key),
                    _ => throw new NotSupportedException($"{key}: no ONNX export for {layer.GetType().Name}"),
                };
            }
        return h;
    }

    /// <summary><see cref="Models.ConvBlock"/> in eval mode: LeakyReLU(BatchNorm(Conv(x))).</summary>
    static string ConvBlock(OnnxGraph g, string x, ConvBlock block, string prefix)
    {
        string h = OnnxLayers.Conv(g, x, Child<Conv2d>(block, "_conv"), prefix + "_conv.");
        h = OnnxLayers.BatchNorm(g, h, Child<BatchNorm2d>(block, "_norm"), prefix + "_norm.");
        return OnnxLayers.LeakyRelu(g, h, Models.ConvBlock.Slope);
    }
}
