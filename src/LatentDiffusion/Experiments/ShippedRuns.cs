using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
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

/// <summary>The runs that made the shipped part-3 weights.</summary>
public sealed record Part3Runs(string Vae, string Diffusion, string AlphaDeblending, string? WideAlphaDeblending);

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

    /// <summary>Part 3's models under <paramref name="run"/>: latent-vae/, diffusion/, alpha-deblending/ and (with <paramref name="wide"/>) alpha-deblending-wide/.</summary>
    public static Part3Runs TrainPart3(MnistData mnist, string run, bool wide, IRunTrainer trainer)
    {
        string vaePath;
        using (Tensor train = mnist.Train.ToInputs())
        using (Tensor test = mnist.Test.ToInputs())
            vaePath = trainer.EnsureTrained(new VaeTask(train, test, Recipes.LatentVae.Model), Recipes.LatentVae.Training, Path.Combine(run, "latent-vae"), "latent VAE");
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
        return new Part3Runs(vaePath, modelPath, alphaPath, widePath);
    }

    /// <summary>The class-conditional model (<see cref="Recipes.ConditionalModel"/>, <see cref="Recipes.ConditionalTraining"/>) on the latents of <paramref name="vaePath"/>, in <paramref name="run"/>.</summary>
    public static string TrainConditional(MnistData mnist, string vaePath, string run, IRunTrainer trainer)
    {
        using var latents = LatentSet.Encode(vaePath, mnist, Recipes.ConditionalTraining.Seed);
        DiffusionConfig config = Recipes.ConditionalModel(latents.Config(Recipes.DiffusionUNet(latents.Channels)));
        using var task = new DiffusionTask(latents.Train, latents.Test, config, latents.TrainLabels, latents.TestLabels);
        return trainer.EnsureTrained(task, Recipes.ConditionalTraining, run, "class-conditional model");
    }
}
