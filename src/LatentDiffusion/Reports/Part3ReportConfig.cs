namespace LatentDiffusion.Reports;

/// <summary>Settings of <see cref="Part3Report"/>; the defaults follow the post's figures.</summary>
public sealed record Part3ReportConfig
{
    /// <summary>Seed of the noise ε in the forward-process figure. Default 0.</summary>
    public long NoiseSeed { get; init; } = 0;

    /// <summary>Digits noised in the forward-process figure, one row each: the first test image of each. Default 0, 7, 5, 2 (the post's rows).</summary>
    public IReadOnlyList<int> NoisedDigits { get; init; } = [0, 7, 5, 2];

    /// <summary>
    /// Times t of the forward-process figure's columns, 0 (the original) to T. Default 0, 50, 100, 200, 300, 500, 700,
    /// 1000: 8 columns, as the post's, from the digit to pure noise.
    /// </summary>
    public IReadOnlyList<int> NoisingTimes { get; init; } = [0, 50, 100, 200, 300, 500, 700, 1000];

    /// <summary>Generated digits shown, in rows of <see cref="SampleColumns"/>. Default 6 × 12 = 72, the post's grid.</summary>
    public int SampleRows { get; init; } = 6;

    public int SampleColumns { get; init; } = 12;

    /// <summary>At most this many samples (rows) in the denoising-trajectory figure. Default 8.</summary>
    public int TrajectoryRows { get; init; } = 8;

    /// <summary>At most this many trajectory steps (columns), evenly spaced, the last always included. Default 10.</summary>
    public int TrajectoryColumns { get; init; } = 10;

    /// <summary>Nearest-neighbour magnification of the 32×32 images. Default 3 (96×96 px).</summary>
    public int DigitScale { get; init; } = 3;

    /// <summary>Size of the schedule, loss and census charts. Default 900×560.</summary>
    public int PlotWidth { get; init; } = 900;

    public int PlotHeight { get; init; } = 560;

    public void Validate()
    {
        if (NoisedDigits.Count == 0) throw new ArgumentException("no digits to noise", nameof(NoisedDigits));
        foreach (int digit in NoisedDigits) ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)digit, 9u, nameof(NoisedDigits));
        if (NoisingTimes.Count == 0) throw new ArgumentException("no times to noise at", nameof(NoisingTimes));
        foreach (int t in NoisingTimes) ArgumentOutOfRangeException.ThrowIfNegative(t, nameof(NoisingTimes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SampleRows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SampleColumns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TrajectoryRows);
        ArgumentOutOfRangeException.ThrowIfLessThan(TrajectoryColumns, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DigitScale);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PlotWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PlotHeight);
    }
}
