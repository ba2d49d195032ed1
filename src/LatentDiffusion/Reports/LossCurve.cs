using LatentDiffusion.Training;
using ScottPlot;

namespace LatentDiffusion.Reports;

/// <summary>
/// The reports' loss curve: a run's train loss (the mean over each epoch's batches) and validation loss against
/// epoch, one marker per logged epoch. Every trained model's report draws it; only the title and the names of the
/// loss and of the validation set differ.
/// </summary>
public static class LossCurve
{
    /// <summary>The curve as a PNG of <paramref name="width"/> × <paramref name="height"/>.</summary>
    /// <param name="yLabel">What the loss is, e.g. "cross-entropy loss".</param>
    /// <param name="validationLabel">The validation curve's legend, naming the set, e.g. "validation (the test images)".</param>
    public static RenderedFigure Render(IReadOnlyList<EpochLog> history, string title, string yLabel, string validationLabel, int width, int height)
    {
        using Plot plot = Plot(history, title, yLabel, validationLabel);
        return PlotFigures.Encode(plot, width, height);
    }

    /// <summary>The curve as a plot, to be a panel of a larger figure (<see cref="PlotFigures.Panels"/>). The caller disposes it.</summary>
    public static Plot Plot(IReadOnlyList<EpochLog> history, string title, string yLabel, string validationLabel)
    {
        if (history.Count == 0) throw new ArgumentException("no logged epochs to plot", nameof(history));
        double[] epochs = history.Select(e => (double)e.Epoch).ToArray();
        return PlotFigures.Curves(title, "epoch", yLabel,
        [
            new PlotFigures.Curve("train (mean over the epoch's batches)", epochs, history.Select(e => e.TrainLoss).ToArray()),
            new PlotFigures.Curve(validationLabel, epochs, history.Select(e => e.ValLoss).ToArray()),
        ]);
    }
}
