using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using TorchSharp.Modules;
using static LatentDiffusion.Export.Onnx.OnnxModules;
using static TorchSharp.torch;

namespace LatentDiffusion.Export.Onnx;

/// <summary>
/// A latent diffusion model's <see cref="UNet"/> (ε, α-deblending or class-conditional) as one graph:
/// inputs <c>x</c> (B, C, 4, 4) float32, <c>t</c> (B,) float32 — the network's time: integer t ∈ 1..T for an
/// ε-model, α·scale for an α-model — and, for a conditional model, <c>labels</c> (B,) int64 in 0..C (C = "no label");
/// output <c>prediction</c> (B, C, 4, 4). Guidance and sampling stay outside, in the runtime; the metadata carries what
/// they need (<see cref="Info"/>).
/// </summary>
public sealed class UNetOnnx : IOnnxModelExport
{
    public string Architecture => nameof(UNet);

    public IReadOnlyList<(string Suffix, OnnxGraph Graph)> Build(string path)
    {
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(path);
        using (unet)
        using (no_grad())
        {
            OnnxGraph g = Graph(unet);
            g.DocString = $"{config.KindName}: the UNet of {Path.GetFileName(path)}, (x_t, t{(config.UNet.Classes > 0 ? ", label" : "")}) → prediction";
            g.Metadata[OnnxExport.ModelKey] = InfoJson(config);
            g.Metadata[OnnxExport.ConfigKey] = JsonSerializer.Serialize(config);
            return [("", g)];
        }
    }

    /// <summary>
    /// <see cref="Info"/> as JSON; a distilled student's adds <c>student_steps</c>, the step counts it samples with (other
    /// models' metadata has no such key).
    /// </summary>
    public static string InfoJson(DiffusionConfig config)
    {
        if (config.Student is not { } student) return JsonSerializer.Serialize(Info(config), OnnxExport.Json);
        var node = (System.Text.Json.Nodes.JsonObject)JsonSerializer.SerializeToNode(Info(config), OnnxExport.Json)!;
        node["student_steps"] = JsonSerializer.SerializeToNode(student.SupportedSteps());
        return node.ToJsonString(OnnxExport.Json);
    }

    /// <summary>What a sampler needs besides the network: the schedule, the scales, the classes, the samplers that fit and their defaults.</summary>
    public static object Info(DiffusionConfig config)
    {
        using NoiseSchedule schedule = config.CreateSchedule();
        ISampler byDefault = Samplers.Interactive(config);
        bool conditional = config.UNet.Classes > 0;
        return new
        {
            kind = OnnxExport.UNetKind,
            objective = config.Objective == DiffusionObjective.Epsilon ? "epsilon" : "alpha-deblending",
            latent_shape = config.LatentShape,
            latent_scale = config.LatentScale,
            alpha_scale = config.AlphaScale,
            timesteps = config.Steps,
            alphas_cumprod = schedule.Values,                                   // ᾱ_1 … ᾱ_T, float32 as the library computes them
            classes = config.UNet.Classes,
            class_names = Enumerable.Range(0, config.UNet.Classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),   // MNIST's classes are its digits
            no_label = config.UNet.Classes,
            samplers = Samplers.For(config).Select(s => new { name = s.Name, title = s.Title, summary = s.Summary, default_steps = s.DefaultSteps(config), max_steps = s.MaxSteps(config), fixed_steps = s.FixedSteps }).ToArray(),
            default_sampler = byDefault.Name,
            eta = new SamplingOptions().Eta,
            guidance = conditional ? config.DefaultGuidance : (double?)null,
            guidance_interval = conditional ? new[] { Recipes.GuidanceInterval.Low, Recipes.GuidanceInterval.High } : null,
            vae_sha256 = config.VaeSha256,
        };
    }

    /// <summary>The forward pass of <see cref="UNet.forward(Tensor, Tensor, Tensor?)"/>, node for node.</summary>
    public static OnnxGraph Graph(UNet unet)
    {
        UNetConfig c = unet.Config;
        var g = new OnnxGraph("unet");
        string x = g.Input("x", OnnxType.Float, null, c.LatentChannels, c.Side, c.Side);
        string t = g.Input("t", OnnxType.Float, [null]);
        string emb = TimeEmbedding(g, t, c);                                                    // (B, dim)
        if (c.Classes > 0)
        {
            string labels = g.Input("labels", OnnxType.Int64, [null]);
            string y = OnnxLayers.Embedding(g, labels, Child<Embedding>(unet, "label"), "label.");   // (B, dim)
            emb = g.Node("Add", [emb, y]);
        }
        string embAct = OnnxLayers.LeakyRelu(g, emb, 0.01);                                     // each block's LeakyReLU(t_emb), shared
        var down = Child<nn.Module>(unet, "down");
        var up = Child<nn.Module>(unet, "up");
        var skips = new List<string>();
        string h = x;
        int levels = c.Widths.Count;
        for (int i = 0; i < levels; i++)
        {
            if (i > 0) h = OnnxLayers.Pool(g, "MaxPool", h, 2);                               // (B, w[i-1], H/2, W/2)
            var level = Child<nn.Module>(down, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            for (int j = 0; j < 2; j++) h = Block(g, h, embAct, Child<TimeEmbeddingConvBlock>(level, $"{j}"), $"down.{i}.{j}.");
            skips.Add(h);                                                                       // (B, w[i], ·, ·)
        }
        for (int k = 0; k < levels - 1; k++)
        {
            h = OnnxLayers.Upsample2x(g, h);
            h = g.Node("Concat", [h, skips[skips.Count - 2 - k]], null, OnnxAttribute.Int("axis", 1));   // (B, w[i+1] + w[i], ·, ·)
            var level = Child<nn.Module>(up, $"{k}");
            for (int j = 0; j < 2; j++) h = Block(g, h, embAct, Child<TimeEmbeddingConvBlock>(level, $"{j}"), $"up.{k}.{j}.");
        }
        if (c.InputSkip)
        {
            string gain = OnnxLayers.Linear(g, emb, Child<Linear>(unet, "skip"), "skip.");      // (B, C)
            gain = g.Node("Add", [gain, OnnxLayers.Constant(g, "one", [1f])]);
            gain = OnnxLayers.Unsqueeze(g, gain, 2, 3);                                         // (B, C, 1, 1)
            h = g.Node("Concat", [h, g.Node("Mul", [x, gain])], null, OnnxAttribute.Int("axis", 1));   // (B, w[0] + C, 4, 4)
        }
        string prediction = OnnxLayers.Conv(g, h, Child<Conv2d>(unet, "out"), "out.");
        prediction = g.Node("Identity", [prediction], "prediction");
        g.Output(prediction, OnnxType.Float, null, c.LatentChannels, c.Side, c.Side);
        return g;
    }

    /// <summary>
    /// <see cref="SinusoidalPositionalEmbedding"/>: [sin(t·f), cos(t·f)] with the factors f computed by the library
    /// (float32), so the graph multiplies by the very same numbers. (B,) → (B, dim).
    /// </summary>
    static string TimeEmbedding(OnnxGraph g, string t, UNetConfig c)
    {
        using var embedding = new SinusoidalPositionalEmbedding(c.EmbeddingDim, c.EmbeddingScale);
        using Tensor factors = embedding.Factors();
        string f = g.Initializer("embedding.factors", OnnxLayers.Floats(factors), 1, c.EmbeddingDim / 2);
        string args = g.Node("Mul", [OnnxLayers.Unsqueeze(g, t, 1), f]);                      // (B, dim/2)
        return g.Node("Concat", [g.Node("Sin", [args]), g.Node("Cos", [args])], null, OnnxAttribute.Int("axis", -1));
    }

    /// <summary><see cref="TimeEmbeddingConvBlock"/>: LeakyReLU(InstanceNorm(Conv(x)) + Linear(LeakyReLU(t_emb))). (B, in, H, W) → (B, out, H, W).</summary>
    static string Block(OnnxGraph g, string x, string embAct, TimeEmbeddingConvBlock block, string prefix)
    {
        var conv = Child<Conv2d>(block, "_conv");
        string t = OnnxLayers.Linear(g, embAct, Child<Linear>(block, "_emb_linear"), prefix + "_emb_linear.");   // (B, out)
        string h = OnnxLayers.Conv(g, x, conv, prefix + "_conv.");
        h = OnnxLayers.InstanceNorm(g, h, conv.weight!.shape[0], prefix + "_norm.");
        h = g.Node("Add", [h, OnnxLayers.Unsqueeze(g, t, 2, 3)]);                               // + (B, out, 1, 1)
        return OnnxLayers.LeakyRelu(g, h, 0.01);
    }
}
