using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Experiments;

/// <summary>
/// What <see cref="Pipeline"/> trains, stage by stage: the shipped recipes by default (override with <c>with</c>; the
/// tests shrink the models). Each model takes the data's channels, side and classes; only the epochs can be changed
/// by the plan (<see cref="PipelinePlan"/>), from <see cref="BudgetMinutes"/>.
/// </summary>
public sealed record PipelineSettings
{
    /// <summary>Stage 1, the classifier: part 1's training (Adam 1e-3, batches of 256, 100 epochs, constant rate).</summary>
    public TrainingConfig ClassifierTraining { get; init; } = new();

    /// <summary>Stage 2, the latent VAE: <see cref="Recipes.LatentVae"/>'s model (brought to the data's channels and side).</summary>
    public VaeConfig LatentVae { get; init; } = Recipes.LatentVae.Model;

    /// <summary>Stage 2's training: <see cref="Recipes.LatentVae"/>'s (20 epochs of 32, 2e-3 cosine).</summary>
    public TrainingConfig LatentVaeTraining { get; init; } = Recipes.LatentVae.Training;

    /// <summary>Stage 3, the class-conditional α-deblending UNet's shape; null (default): <see cref="Recipes.DiffusionUNet"/>, as <see cref="Recipes.ConditionalModel"/>.</summary>
    public UNetConfig? UNet { get; init; }

    /// <summary>Stage 3's training: <see cref="Recipes.ConditionalTraining"/> (100 epochs of 128, 2e-3 cosine, EMA 0.999).</summary>
    public TrainingConfig ConditionalTraining { get; init; } = Recipes.ConditionalTraining;

    /// <summary>
    /// Minutes the whole pipeline should take, or null (default) for the recipes' epochs. The plan's rule:
    /// <see cref="PipelinePlan.Fit"/>.
    /// </summary>
    public double? BudgetMinutes { get; init; }

    /// <summary>The last stage's samples per generator row (<see cref="DatasetReproductionInputs.Count"/>). Default 10,000.</summary>
    public int ReportSamples { get; init; } = 10_000;

    /// <summary>Training steps timed per stage before the plan is made (after one untimed step). Default 2.</summary>
    public int TimedSteps { get; init; } = 2;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a setting that cannot work.</summary>
    public void Validate()
    {
        ClassifierTraining.Validate();
        LatentVae.Validate();
        LatentVaeTraining.Validate();
        UNet?.Validate();
        ConditionalTraining.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TimedSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ReportSamples);
        if (BudgetMinutes is { } minutes && !(minutes > 0 && double.IsFinite(minutes)))
            throw new ArgumentOutOfRangeException(nameof(BudgetMinutes), minutes, "must be a positive number of minutes");
    }
}
