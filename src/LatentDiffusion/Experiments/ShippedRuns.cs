using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>
/// Trains one run of a recipe, or reuses or resumes it: a finished run of the same recipe is kept, an interrupted one
/// continued. The host decides how training is shown and stopped; returns the run's model.safetensors.
/// </summary>
public interface IRunTrainer
{
    string EnsureTrained<TModel>(ITrainingTask<TModel> task, TrainingConfig config, string run, string what) where TModel : nn.Module;
}

/// <summary>
/// The runs that made the shipped part-3 weights: <see cref="Vae"/> the latent VAE that decodes (the tuned decoder of
/// <see cref="BaseVae"/>, whose latents every generator was trained on).
/// </summary>
public sealed record Part3Runs(string Vae, string BaseVae, string Diffusion, string AlphaDeblending, string? WideAlphaDeblending);

/// <summary>
/// The shipped recipes as runs (what <c>ldm reproduce … --train</c> does), resumably: the latent VAE, then on its latents
/// the DDPM model, the α-deblending model (the same UNet and training, α·1000 in the embedding) and the wide one; and
/// the class-conditional model on a given VAE's latents.
/// </summary>
public static class ShippedRuns
{
    /// <summary>Part 2's autoencoder and VAE under <paramref name="run"/>: autoencoder/ and vae/.</summary>
    public static (string Autoencoder, string Vae) TrainPart2(MnistData mnist, string run, IRunTrainer trainer)
    {
        using Tensor train = mnist.Train.ToInputs();
        using Tensor test = mnist.Test.ToInputs();
        string ae = trainer.EnsureTrained(new AutoencoderTask(train, test, Recipes.Autoencoder.Model), Recipes.Autoencoder.Training, Path.Combine(run, "autoencoder"), "autoencoder");
        string vae = trainer.EnsureTrained(new VaeTask(train, test, Recipes.Vae.Model), Recipes.Vae.Training, Path.Combine(run, "vae"), "VAE");
        return (ae, vae);
    }

    /// <summary>
    /// Part 3's models under <paramref name="run"/>: latent-vae-base/ (the latent VAE), perceptual-classifier/ and
    /// latent-vae/ (its decoder tuned, <see cref="TuneDecoder"/>), then on the base's latents diffusion/,
    /// alpha-deblending/ and (with <paramref name="wide"/>) alpha-deblending-wide/.
    /// </summary>
    public static Part3Runs TrainPart3(MnistData mnist, string run, bool wide, IRunTrainer trainer)
    {
        ImageDataset data = IdxDatasetKind.FromMnist(mnist);
        string vaePath = TrainLatentVae(data, Path.Combine(run, "latent-vae-base"), trainer, recordData: false);
        string sharpPath = TuneDecoder(data, vaePath, run, trainer);
        using var latents = LatentSet.Encode(vaePath, mnist, Recipes.DiffusionTraining.Seed);
        string Train(DiffusionConfig config, string name, string what)
        {
            using var task = new DiffusionTask(latents.Train, latents.Test, config);
            return trainer.EnsureTrained(task, Recipes.DiffusionTraining, Path.Combine(run, name), what);
        }
        DiffusionConfig part3 = latents.Config(Recipes.DiffusionUNet(latents.Channels));
        string modelPath = Train(part3, "diffusion", "diffusion model");
        string alphaPath = Train(part3 with { Objective = DiffusionObjective.AlphaDeblending }, "alpha-deblending", "α-deblending model");
        string? widePath = wide
            ? Train(latents.Config(Recipes.WideUNet(latents.Channels)) with { Objective = DiffusionObjective.AlphaDeblending }, "alpha-deblending-wide", "wide α-deblending model")
            : null;
        return new Part3Runs(sharpPath, vaePath, modelPath, alphaPath, widePath);
    }

    /// <summary>
    /// The shipped decoder tuning of <paramref name="baseVaePath"/> on <paramref name="data"/>, under
    /// <paramref name="run"/>: a second classifier of the data (<see cref="Recipes.PerceptualClassifier"/>, or
    /// <paramref name="classifierTraining"/>: another seed than the FID's) in perceptual-classifier/, then the decoder
    /// alone trained against its features (<see cref="DecoderTuningTask"/>, <see cref="Recipes.DecoderTuning"/>,
    /// λ = <see cref="Recipes.DecoderFeatureWeight"/>) in latent-vae/. The encoder, and so every latent, stays the base's.
    /// </summary>
    public static string TuneDecoder(ImageDataset data, string baseVaePath, string run, IRunTrainer trainer, TrainingConfig? classifierTraining = null)
    {
        string classifierPath = TrainPerceptualClassifier(data, Path.Combine(run, "perceptual-classifier"), trainer, classifierTraining ?? Recipes.PerceptualClassifier);
        return TuneDecoderAgainst(data, baseVaePath, classifierPath, Path.Combine(run, "latent-vae"), trainer);
    }

    /// <summary>
    /// The perceptual classifier of <paramref name="data"/> in <paramref name="run"/>: part 1's network trained with
    /// <paramref name="training"/>, whose seed must not be the FID classifier's (else the FID would score the decoder
    /// with the very features it was tuned to match).
    /// </summary>
    public static string TrainPerceptualClassifier(ImageDataset data, string run, IRunTrainer trainer, TrainingConfig training)
    {
        using ClassifierTask classifier = ClassifierTask.For(data);
        return trainer.EnsureTrained(classifier, training, run, "perceptual classifier");
    }

    /// <summary>
    /// The decoder of <paramref name="baseVaePath"/> tuned against <paramref name="classifierPath"/>'s features in
    /// <paramref name="run"/> (<see cref="DecoderTuningOf"/>), trained with <paramref name="training"/> (default
    /// <see cref="Recipes.DecoderTuning"/>).
    /// </summary>
    public static string TuneDecoderAgainst(ImageDataset data, string baseVaePath, string classifierPath, string run, IRunTrainer trainer, TrainingConfig? training = null) =>
        trainer.EnsureTrained(DecoderTuningOf(data, baseVaePath, classifierPath), training ?? Recipes.DecoderTuning, run, "decoder tuning");

    /// <summary>The shipped decoder tuning's task: λ = <see cref="Recipes.DecoderFeatureWeight"/>, <paramref name="data"/>'s splits, the data recorded.</summary>
    public static DecoderTuningTask DecoderTuningOf(ImageDataset data, string baseVaePath, string classifierPath) =>
        new(baseVaePath, classifierPath, Recipes.DecoderFeatureWeight, data.Train, data.Test, data.Info);

    /// <summary>
    /// Part 3's latent VAE (<see cref="Recipes.LatentVae"/>, or <paramref name="model"/>, at the data's channels and side)
    /// on <paramref name="data"/>, in <paramref name="run"/>, with <paramref name="training"/> (default the recipe's).
    /// <paramref name="recordData"/> records the data with the weights (false: MNIST's shipped runs, which record none).
    /// </summary>
    public static string TrainLatentVae(ImageDataset data, string run, IRunTrainer trainer, TrainingConfig? training = null, VaeConfig? model = null,
        bool recordData = true)
    {
        VaeConfig config = (model ?? Recipes.LatentVae.Model).ForResolution(data.Channels, data.Resolution);   // MNIST: unchanged
        var task = new VaeTask(data.Train, data.Test, config, recordData ? data.Info : null);
        return trainer.EnsureTrained(task, training ?? Recipes.LatentVae.Training, run, "latent VAE");
    }

    /// <summary>The class-conditional model (<see cref="Recipes.ConditionalModel"/>, <see cref="Recipes.ConditionalTraining"/>) on the latents of <paramref name="vaePath"/>, in <paramref name="run"/>.</summary>
    public static string TrainConditional(MnistData mnist, string vaePath, string run, IRunTrainer trainer) =>
        TrainConditional(IdxDatasetKind.FromMnist(mnist), vaePath, run, trainer, recordData: false);

    /// <summary>
    /// The class-conditional model on the latents of <paramref name="vaePath"/> (<paramref name="data"/> encoded once,
    /// the training seed's draws): <see cref="Recipes.ConditionalModel"/> for the data's classes, with
    /// <paramref name="unet"/>'s widths when given, trained with <paramref name="training"/> (default
    /// <see cref="Recipes.ConditionalTrainingAt"/> the latents' side) in <paramref name="run"/>.
    /// </summary>
    public static string TrainConditional(ImageDataset data, string vaePath, string run, IRunTrainer trainer, TrainingConfig? training = null,
        UNetConfig? unet = null, bool recordData = true)
    {
        using var latents = LatentSet.Encode(vaePath, data, (training ?? Recipes.ConditionalTraining).Seed);
        training ??= Recipes.ConditionalTrainingAt(latents.Side);
        DiffusionConfig config = ConditionalConfig(latents.Config(Recipes.ConditionalUNetAt(latents.Side, latents.Channels)), data.Classes, unet);
        using var task = new DiffusionTask(latents.Train, latents.Test, config, latents.TrainLabels, latents.TestLabels, recordData ? latents.Data : null);
        return trainer.EnsureTrained(task, training, run, "class-conditional model");
    }

    /// <summary>The conditional model's settings on <paramref name="latents"/>' config: the recipe's, with <paramref name="unet"/>'s shape when given.</summary>
    public static DiffusionConfig ConditionalConfig(DiffusionConfig latents, int classes, UNetConfig? unet = null)
    {
        DiffusionConfig config = Recipes.ConditionalModel(latents, classes);
        return unet is null ? config : config with { UNet = unet with { LatentChannels = latents.UNet.LatentChannels, LatentSide = latents.UNet.LatentSide, Classes = classes } };
    }
}
