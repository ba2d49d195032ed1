using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>
/// Settings of the latent UNet. The post does not publish its UNet ("virtually identical" to part 2's conv stack with
/// the time embedding in every block); these defaults are this project's design, chosen by measurement (docs/numbers.md).
/// </summary>
public sealed record UNetConfig
{
    /// <summary>Channels of the (C, 4, 4) latent, in and out. The post's VAE: 4.</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary>
    /// Side of the latent the model was trained on when it is not 4 (a VAE with one level fewer gives 8x8); null, and then
    /// not written, means 4, so every config written before it existed reads as it did. The network itself is
    /// convolutional and takes any even side; samplers and exports draw and declare latents of this side.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? LatentSide { get; init; }

    /// <summary>The latent side: <see cref="LatentSide"/>, or 4.</summary>
    [JsonIgnore]
    public int Side => LatentSide ?? 4;

    /// <summary>This config for latents of <paramref name="side"/> (4 stays unwritten).</summary>
    public UNetConfig ForLatentSide(int side) => this with { LatentSide = side == 4 ? null : side };

    /// <summary>
    /// Channels per level; level i works at 4/2^i. With InstanceNorm a 4x4 latent halves at most once, so two levels.
    /// Default (32, 64), the shipped model's: about four times cheaper a step than (64, 128), so more steps fit the time budget.
    /// </summary>
    public IReadOnlyList<int> Widths { get; init; } = [32, 64];

    /// <summary>
    /// Feed x_t, scaled per channel by (1 + Linear(t_emb)), into the output convolution beside the features (keys
    /// <c>skip.*</c>; beyond the post, default off). Every block normalises its 4x4 maps per sample and channel
    /// (InstanceNorm), which hides the absolute size of x_t from the network; the skip gives the prediction a
    /// time-dependent linear path from x_t, the dominant term of E[ε | x_t] at large t.
    /// </summary>
    public bool InputSkip { get; init; }

    /// <summary>
    /// Classes the model can be conditioned on (0: unconditional, the post). With C &gt; 0 a learned embedding of C + 1
    /// entries (the C labels, then "no label" at index C; key <c>label.weight</c>) is added to the time embedding that
    /// every block receives, for classifier-free guidance (Ho and Salimans 2022). MNIST: 10.
    /// </summary>
    public int Classes { get; init; }

    /// <summary>Size of the sinusoidal time embedding. The post's class default: 16.</summary>
    public int EmbeddingDim { get; init; } = 16;

    /// <summary>Longest period factor of the embedding. The post: 1000.</summary>
    public double EmbeddingScale { get; init; } = 1000;

    public bool Equals(UNetConfig? other) =>
        other is not null && LatentChannels == other.LatentChannels && Side == other.Side && Widths.SequenceEqual(other.Widths) &&
        EmbeddingDim == other.EmbeddingDim && EmbeddingScale.Equals(other.EmbeddingScale) && InputSkip == other.InputSkip && Classes == other.Classes;

    public override int GetHashCode() => HashCode.Combine(LatentChannels, Side, Widths.Aggregate(17, HashCode.Combine), EmbeddingDim, EmbeddingScale, InputSkip, Classes);

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LatentChannels);
        if (Widths.Count < 1 || Widths.Any(w => w <= 0)) throw new ArgumentException("UNet widths must be positive and at least one");
        ArgumentOutOfRangeException.ThrowIfNegative(Classes);
        if (Side < 2 || !int.IsPow2(Side)) throw new ArgumentOutOfRangeException(nameof(LatentSide), Side, "the latent side is a power of two ≥ 2");
    }
}

/// <summary>
/// The latent-space noise predictor ε_θ(x_t, t) of part 3: a UNet of <see cref="TimeEmbeddingConvBlock"/>s. Level i
/// (i ≥ 1 after a 2x2 max pool) has two blocks, widths[i-1 or input] → widths[i] → widths[i]; going up, each level
/// upsamples (nearest) the level below, concatenates the skip of the same resolution and applies two blocks
/// (widths[i+1] + widths[i] → widths[i] → widths[i]); a 1x1 convolution maps widths[0] back to the latent channels.
/// Every block receives the sinusoidal embedding of t. Keys <c>down.{i}.{j}.*</c>, <c>up.{k}.{j}.*</c>, <c>out.*</c>, as
/// the PyTorch twin in python/ldm_modules.py. With (32, 64): (B, 4, 4, 4) → (B, 32, 4, 4) → (B, 64, 2, 2) →
/// (B, 96, 4, 4) → (B, 32, 4, 4) → (B, 4, 4, 4).
/// </summary>
public sealed class UNet : Module<Tensor, Tensor, Tensor>
{
    private readonly SinusoidalPositionalEmbedding embedding;
    private readonly ModuleList<ModuleList<TimeEmbeddingConvBlock>> down;
    private readonly ModuleList<ModuleList<TimeEmbeddingConvBlock>> up;
    private readonly Linear? skip;
    private readonly Conv2d @out;
    private readonly Embedding? label;

    public UNet(UNetConfig? config = null) : base(nameof(UNet))
    {
        Config = config ?? new UNetConfig();
        Config.Validate();
        IReadOnlyList<int> w = Config.Widths;
        int tin = Config.EmbeddingDim;
        embedding = new SinusoidalPositionalEmbedding(tin, Config.EmbeddingScale);
        down = new ModuleList<ModuleList<TimeEmbeddingConvBlock>>();
        for (int i = 0; i < w.Count; i++)
        {
            int fin = i == 0 ? Config.LatentChannels : w[i - 1];
            down.Add(new ModuleList<TimeEmbeddingConvBlock>(new TimeEmbeddingConvBlock(fin, w[i], tin), new TimeEmbeddingConvBlock(w[i], w[i], tin)));
        }
        up = new ModuleList<ModuleList<TimeEmbeddingConvBlock>>();
        for (int i = w.Count - 2; i >= 0; i--)
            up.Add(new ModuleList<TimeEmbeddingConvBlock>(new TimeEmbeddingConvBlock(w[i + 1] + w[i], w[i], tin), new TimeEmbeddingConvBlock(w[i], w[i], tin)));
        if (Config.InputSkip) skip = nn.Linear(tin, Config.LatentChannels);
        @out = nn.Conv2d(w[0] + (Config.InputSkip ? Config.LatentChannels : 0), Config.LatentChannels, 1);
        if (Config.Classes > 0) label = nn.Embedding(Config.Classes + 1, tin);
        RegisterComponents();
    }

    public UNetConfig Config { get; }

    /// <summary>x_t (B, C, 4, 4) and t (B,) (integer times, or reals) → predicted noise (B, C, 4, 4); a conditional model sees "no label".</summary>
    public override Tensor forward(Tensor x, Tensor t) => forward(x, t, null);

    /// <summary>"No label": the index of the unconditional entry of the label embedding (= <see cref="UNetConfig.Classes"/>).</summary>
    public long NoLabel => Config.Classes;

    /// <summary>
    /// x_t, t and labels (B,) int64 in 0..C (C = "no label"; null: all "no label") → prediction (B, C, 4, 4). An
    /// unconditional model accepts only null.
    /// </summary>
    public Tensor forward(Tensor x, Tensor t, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        Tensor emb = embedding.forward(t);                                    // (B, dim)
        if (label is not null)
        {
            Tensor y = labels ?? full([x.shape[0]], NoLabel, dtype: ScalarType.Int64, device: x.device);
            emb = emb.add(label.forward(y));                                  // (B, dim)
        }
        else if (labels is not null) throw new ArgumentException("an unconditional UNet takes no labels", nameof(labels));
        var skips = new List<Tensor>();
        Tensor h = x;
        for (int i = 0; i < down.Count; i++)
        {
            if (i > 0) h = nn.functional.max_pool2d(h, 2);                    // (B, w[i-1], H/2, W/2)
            foreach (TimeEmbeddingConvBlock block in down[i]) h = block.forward(h, emb);
            skips.Add(h);                                                     // (B, w[i], ·, ·)
        }
        for (int k = 0; k < up.Count; k++)
        {
            Tensor skip = skips[skips.Count - 2 - k];                         // the level above the current one
            h = nn.functional.interpolate(h, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
            h = cat([h, skip], 1);                                            // (B, w[i+1] + w[i], ·, ·)
            foreach (TimeEmbeddingConvBlock block in up[k]) h = block.forward(h, emb);
        }
        if (skip is not null)
        {
            Tensor gain = skip.forward(emb).add(1.0).unsqueeze(-1).unsqueeze(-1);   // (B, C, 1, 1)
            h = cat([h, x.mul(gain)], 1);                                         // (B, w[0] + C, 4, 4)
        }
        return @out.forward(h).MoveToOuterDisposeScope();
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
