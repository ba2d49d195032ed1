using System.Text.Json;
using System.Text.Json.Serialization;

namespace LatentDiffusion.Onnx;

/// <summary>
/// What <c>ldm export</c> writes into each ONNX file's metadata under <c>ldm.model</c> (snake_case JSON): the network's
/// kind and shapes, and for a UNet everything sampling needs — objective, noise schedule, latent scale, classes, the
/// samplers that fit with their default steps, the guidance defaults. Read from the file, never copied here, so the
/// defaults are the library's (the exporter writes them from its sampler registry and recipes).
/// </summary>
public sealed record ModelInfo
{
    /// <summary>Metadata keys written by the exporter (the library's <c>OnnxExport</c>).</summary>
    public const string KindKey = "ldm.kind", ModelKey = "ldm.model", FormatKey = "ldm.format";

    /// <summary>The metadata layout this runtime reads.</summary>
    public const string FormatVersion = "1";

    public const string UNetKind = "unet", DecoderKind = "vae-decoder", EncoderKind = "vae-encoder", ClassifierKind = "classifier";

    public string Kind { get; init; } = "";

    /// <summary>UNet: "epsilon" (DDPM/DDIM) or "alpha-deblending".</summary>
    public string? Objective { get; init; }

    /// <summary>(C, h, w) of the latent.</summary>
    public int[] LatentShape { get; init; } = [];

    public int[] ImageShape { get; init; } = [1, 32, 32];

    /// <summary>Latents are multiplied by this before diffusion and divided after sampling.</summary>
    public double LatentScale { get; init; } = 1;

    /// <summary>α-deblending: the network's time is α·scale.</summary>
    public double AlphaScale { get; init; } = 1000;

    /// <summary>T of the noise schedule.</summary>
    public int Timesteps { get; init; }

    /// <summary>ᾱ_1 … ᾱ_T (float32, as the library computes them).</summary>
    public float[] AlphasCumprod { get; init; } = [];

    public int Classes { get; init; }

    public string[] ClassNames { get; init; } = [];

    /// <summary>The label index meaning "no label" (= classes).</summary>
    public int NoLabel { get; init; }

    public SamplerInfo[] Samplers { get; init; } = [];

    public string? DefaultSampler { get; init; }

    /// <summary>DDIM's η by default.</summary>
    public double Eta { get; init; }

    /// <summary>Conditional models: the guidance weight w and the noise-level interval it applies in, by default.</summary>
    public double? Guidance { get; init; }

    public double[]? GuidanceInterval { get; init; }

    public string? VaeSha256 { get; init; }

    /// <summary>A distilled student's step counts (null for every other model): its sampler runs at these only.</summary>
    public int[]? StudentSteps { get; init; }

    public int FeatureDim { get; init; }

    [JsonIgnore]
    public bool IsAlphaDeblending => Objective == "alpha-deblending";

    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Parses the <c>ldm.model</c> value of <paramref name="path"/>.</summary>
    public static ModelInfo Parse(string path, string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelInfo>(json, Json) ?? throw new OnnxModelException(path, "empty ldm.model metadata");
        }
        catch (JsonException e)
        {
            throw new OnnxModelException(path, $"unreadable ldm.model metadata ({e.Message})", e);
        }
    }
}

/// <summary>A sampler that fits a UNet, as the library's registry describes it.</summary>
public sealed record SamplerInfo
{
    public string Name { get; init; } = "";
    public string Title { get; init; } = "";
    public string Summary { get; init; } = "";
    public int DefaultSteps { get; init; }
    public int? MaxSteps { get; init; }
    public bool FixedSteps { get; init; }
}
