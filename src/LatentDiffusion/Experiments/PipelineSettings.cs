using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Experiments;

/// <summary>
/// What <see cref="Pipeline"/> trains, stage by stage: the shipped recipes by default (override with <c>with</c>; the
/// tests shrink the models). Each model takes the data's channels, side and classes; only the epochs can be changed
/// by the plan (<see cref="PipelinePlan"/>), from <see cref="BudgetMinutes"/>. The stages: the classifier, the latent
/// VAE, the perceptual classifier and the decoder tuning (unless <see cref="DecoderTuning"/> is off), the conditional
/// generator.
/// </summary>
public sealed record PipelineSettings
{
    /// <summary>The classifier whose features define the data's FID: part 1's training (Adam 1e-3, batches of 256, 100 epochs, constant rate).</summary>
    public TrainingConfig ClassifierTraining { get; init; } = new();

    /// <summary>The latent VAE: <see cref="Recipes.LatentVae"/>'s model (brought to the data's channels and side).</summary>
    public VaeConfig LatentVae { get; init; } = Recipes.LatentVae.Model;

    /// <summary>The latent VAE's training: <see cref="Recipes.LatentVae"/>'s (20 epochs of 32, 2e-3 cosine).</summary>
    public TrainingConfig LatentVaeTraining { get; init; } = Recipes.LatentVae.Training;

    /// <summary>
    /// Whether the VAE's decoder is perceptually tuned (default true), as the shipped MNIST and Fashion-MNIST decoders
    /// were: a second classifier (<see cref="PerceptualClassifierTraining"/>) is trained, then the decoder alone against
    /// its features (<see cref="DecoderTuningTraining"/>); the model set's <c>latent-vae</c> is then the tuned decoder,
    /// the trained VAE stays in its run. The encoder is frozen, so the conditional generator, trained on the trained
    /// VAE's latents, is the same model either way. Recorded with the plan (<see cref="PipelineRecord.DecoderTuning"/>).
    /// </summary>
    public bool DecoderTuning { get; init; } = true;

    /// <summary>
    /// The perceptual classifier's training: <see cref="ClassifierTraining"/> with its seed + 1, for at most
    /// <see cref="Recipes.PerceptualClassifier"/>'s 40 epochs (its feature maps need a trained net, not the last tenth
    /// of a point of accuracy; under a budget the epochs saved go to the tuning and the generator). The seed must differ
    /// from the FID classifier's: a decoder tuned to match the FID net's own features would be scored by the net it was
    /// tuned against, and its FID would flatter it.
    /// </summary>
    public TrainingConfig PerceptualClassifierTraining => ClassifierTraining with
    {
        Seed = ClassifierTraining.Seed + 1,
        Epochs = Math.Min(ClassifierTraining.Epochs, Recipes.PerceptualClassifier.Epochs),
    };

    /// <summary>
    /// The decoder tuning's training: <see cref="Recipes.DecoderTuning"/> (6 epochs of 64, 5e-4 cosine), the perceptual
    /// term weighted by <see cref="Recipes.DecoderFeatureWeight"/>.
    /// </summary>
    public TrainingConfig DecoderTuningTraining { get; init; } = Recipes.DecoderTuning;

    /// <summary>The class-conditional α-deblending UNet's shape; null (default): <see cref="Recipes.DiffusionUNet"/>, as <see cref="Recipes.ConditionalModel"/>.</summary>
    public UNetConfig? UNet { get; init; }

    /// <summary>The conditional generator's training: <see cref="Recipes.ConditionalTraining"/> (100 epochs of 128, 2e-3 cosine, EMA 0.999).</summary>
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
        DecoderTuningTraining.Validate();
        UNet?.Validate();
        ConditionalTraining.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TimedSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ReportSamples);
        if (BudgetMinutes is { } minutes && !(minutes > 0 && double.IsFinite(minutes)))
            throw new ArgumentOutOfRangeException(nameof(BudgetMinutes), minutes, "must be a positive number of minutes");
    }
}
