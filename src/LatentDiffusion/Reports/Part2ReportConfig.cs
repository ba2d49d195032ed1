namespace LatentDiffusion.Reports;

/// <summary>Settings of <see cref="Part2Report"/>; the defaults follow the post's figures.</summary>
public sealed record Part2ReportConfig
{
    /// <summary>Seed of the choice of reconstructed digits, of the samples and of the VAE's ε. Default 0.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Test digits shown over their reconstructions. Default 8 (the post's 2 × 8).</summary>
    public int ReconstructionCount { get; init; } = 8;

    /// <summary>Samples shown, in rows of <see cref="SampleColumns"/>. Default 4 × 8 = 32, as the post.</summary>
    public int SampleRows { get; init; } = 4;

    public int SampleColumns { get; init; } = 8;

    /// <summary>Nearest-neighbour magnification of the 32×32 images. Default 3 (96×96 px).</summary>
    public int DigitScale { get; init; } = 3;

    /// <summary>Flattened latent elements on the axes of the raw latent scatter (index c·16 + y·4 + x). Default 0 and 1.</summary>
    public int ScatterFirst { get; init; } = 0;

    public int ScatterSecond { get; init; } = 1;

    /// <summary>Test images at the two ends of the interpolation strip. Default 0 and 1 (MNIST's first test digits: a 7 and a 2).</summary>
    public int InterpolationStart { get; init; } = 0;

    public int InterpolationEnd { get; init; } = 1;

    /// <summary>Values of α, evenly from 0 to 1, in the interpolation strip. Default 10.</summary>
    public int InterpolationSteps { get; init; } = 10;

    /// <summary>Size of ae_loss.png, and of each of vae_loss.png's two panels. Default 900×560 and 700×560.</summary>
    public int PlotWidth { get; init; } = 900;

    public int PlotHeight { get; init; } = 560;

    public int PanelWidth { get; init; } = 700;

    /// <summary>Size of the scatter plots. Default 760×640.</summary>
    public int ScatterWidth { get; init; } = 760;

    public int ScatterHeight { get; init; } = 640;

    /// <summary>Images per forward pass. Default 1000.</summary>
    public int BatchSize { get; init; } = 1000;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ReconstructionCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SampleRows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SampleColumns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DigitScale);
        ArgumentOutOfRangeException.ThrowIfNegative(ScatterFirst);
        ArgumentOutOfRangeException.ThrowIfNegative(ScatterSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(InterpolationStart);
        ArgumentOutOfRangeException.ThrowIfNegative(InterpolationEnd);
        ArgumentOutOfRangeException.ThrowIfLessThan(InterpolationSteps, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PlotWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PlotHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PanelWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ScatterWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ScatterHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
    }
}
