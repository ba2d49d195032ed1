namespace LatentDiffusion.Reports;

/// <summary>Settings of <see cref="Part1Report"/>; every default reproduces the post's figures.</summary>
public sealed record Part1ReportConfig
{
    /// <summary>Seed of the choice of sample digits. Default 0.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Random test images per digit in samples.png (one row per digit). Default 10.</summary>
    public int SamplesPerDigit { get; init; } = 10;

    /// <summary>Most misclassified digits shown, in test-set order. Default 60 (six rows of ten).</summary>
    public int MaxMisclassified { get; init; } = 60;

    /// <summary>Digits per row of misclassified.png. Default 10.</summary>
    public int MisclassifiedPerRow { get; init; } = 10;

    /// <summary>Images per forward pass. Default 1000.</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>Nearest-neighbour magnification of the 28×28 digits. Default 3 (84×84 px).</summary>
    public int DigitScale { get; init; } = 3;

    /// <summary>Features shown in feature_histograms.png (the first ones, in a 4-wide grid). Default 16.</summary>
    public int HistogramFeatures { get; init; } = 16;

    /// <summary>Bins of each feature histogram. Default 100.</summary>
    public int HistogramBins { get; init; } = 100;

    /// <summary>Size of loss.png, confusion.png and ks_distances.png. Default 900×560.</summary>
    public int PlotWidth { get; init; } = 900;

    public int PlotHeight { get; init; } = 560;

    /// <summary>Size of the square confusion.png. Default 640.</summary>
    public int ConfusionSize { get; init; } = 640;

    /// <summary>Size of one histogram of feature_histograms.png. Default 300×220.</summary>
    public int HistogramCellWidth { get; init; } = 300;

    public int HistogramCellHeight { get; init; } = 220;

    /// <summary>Target width in pixels of an activation map (maps are magnified by a whole factor). Default 48.</summary>
    public int ActivationCellTarget { get; init; } = 48;

    /// <summary>Thresholds of the normality summary: |skewness| and |excess kurtosis| below these count as normal-like.</summary>
    public double SkewThreshold { get; init; } = 0.5;

    public double KurtosisThreshold { get; init; } = 1.0;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SamplesPerDigit);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxMisclassified);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MisclassifiedPerRow);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DigitScale);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HistogramFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HistogramBins);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PlotWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PlotHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ConfusionSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HistogramCellWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HistogramCellHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ActivationCellTarget);
    }
}
