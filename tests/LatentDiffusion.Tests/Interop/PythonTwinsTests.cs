using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Interop;

/// <summary>
/// Weights we export load into python/ldm_modules.py's twins strictly and give our outputs there. Each model is one
/// method: export, <see cref="PythonTwin.Run"/> with the twin's constructor and the output to compare, assert close
/// (the VAE's would run <c>"VAE()"</c> with <c>"torch.cat(model.encode(x), 1)"</c>). Skipped where python3 has no torch.
/// </summary>
[Trait("Category", "Parity")]
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class PythonTwinsTests
{
    [SkippableFact]
    public void Classifier_ShippedWeightsAsPt_LoadStrictlyAndGiveOurLogits()
    {
        PythonTwin.SkipUnlessTorch();
        string shipped = RepositoryPaths.Find("models/classifier.safetensors") ?? throw new FileNotFoundException("models/classifier.safetensors not found");
        using var model = new Classifier();
        ModelWeights.Load(model, shipped);
        model.eval();
        using Tensor x = TestPaths.FixtureInputs();                       // (64, 1, 32, 32): the first 64 MNIST test images
        using var noGrad = no_grad();
        using Tensor ours = model.forward(x);                             // (64, 10)

        PythonTwin.Output theirs = PythonTwin.Run(model, "Classifier()", x);

        PythonTwin.AssertClose(ours, theirs, 1e-5);
    }

    [SkippableFact]
    public void UNet_ExportedAsPt_LoadsStrictlyAndGivesOurNoisePrediction()
    {
        PythonTwin.SkipUnlessTorch();
        manual_seed(0);
        using var model = new UNet(new UNetConfig { Widths = [64, 128] });
        model.eval();
        using Tensor x = randn(8, 4, 4, 4);                                // (8, 4, 4, 4) latents
        long[] times = [1, 2, 37, 250, 500, 731, 999, 1000];
        using Tensor t = tensor(times);
        using var noGrad = no_grad();
        using Tensor ours = model.forward(x, t);                          // (8, 4, 4, 4)

        PythonTwin.Output theirs = PythonTwin.Run(model, "UNet(widths=(64, 128))", x, $"model(x, torch.tensor([{string.Join(", ", times)}]))");

        PythonTwin.AssertClose(ours, theirs, 1e-5);
    }

    [SkippableFact]
    public void UNetWithInputSkip_ExportedAsPt_LoadsStrictlyAndGivesOurNoisePrediction()
    {
        PythonTwin.SkipUnlessTorch();
        manual_seed(1);
        using var model = new UNet(new UNetConfig { LatentChannels = 8, Widths = [32, 64], InputSkip = true });
        model.eval();
        using Tensor x = randn(6, 8, 4, 4);
        long[] times = [1, 10, 100, 500, 900, 1000];
        using Tensor t = tensor(times);
        using var noGrad = no_grad();
        using Tensor ours = model.forward(x, t);

        PythonTwin.Output theirs = PythonTwin.Run(model, "UNet(latent_channels=8, widths=(32, 64), input_skip=True)", x,
            $"model(x, torch.tensor([{string.Join(", ", times)}]))");

        PythonTwin.AssertClose(ours, theirs, 1e-5);
    }

    [SkippableFact]
    public void Vae_ExportedAsPt_LoadsIntoThePostsModulesAndGivesOurPosteriorAndDecoding()
    {
        PythonTwin.SkipUnlessTorch();
        manual_seed(2);
        using var model = new Vae();
        using (Tensor warm = rand(32, 1, 32, 32))
        {
            model.train();                                                // move BatchNorm's running statistics off their defaults
            using var noGrad0 = no_grad();
            model.forward(warm).Dispose();
        }
        model.eval();
        using Tensor x = TestPaths.FixtureInputs().narrow(0, 0, 16);      // (16, 1, 32, 32)
        using var noGrad = no_grad();
        (Tensor mu, Tensor sigma) = model.Encode(x);
        using Tensor ours = cat([mu, sigma], 1);                           // (16, 8, 4, 4)
        mu.Dispose();
        sigma.Dispose();

        PythonTwin.Output theirs = PythonTwin.Run(model, "VAE()", x, "torch.cat(model.encode(x), 1)");
        PythonTwin.AssertClose(ours, theirs, 1e-5);

        using Tensor decoded = model.Decode(ours.narrow(1, 0, 4));         // decode(μ)
        PythonTwin.Output theirsDecoded = PythonTwin.Run(model, "VAE()", x, "model.decode(model.encode(x)[0])");
        PythonTwin.AssertClose(decoded, theirsDecoded, 1e-5);
    }

    [SkippableFact]
    public void ConditionalUNet_ExportedAsPt_LoadsStrictlyAndGivesOurPredictionWithAndWithoutLabels()
    {
        PythonTwin.SkipUnlessTorch();
        manual_seed(3);
        using var model = new UNet(new UNetConfig { LatentChannels = 8, Widths = [32, 64], InputSkip = true, Classes = 10 });
        model.eval();
        using Tensor x = randn(5, 8, 4, 4);
        long[] times = [1, 30, 400, 800, 1000], labels = [0, 3, 9, 10, 7];                 // 10: "no label"
        using Tensor t = tensor(times), y = tensor(labels);
        using var noGrad = no_grad();
        using Tensor ours = model.forward(x, t, y);
        using Tensor oursUnlabelled = model.forward(x, t);
        const string twin = "UNet(latent_channels=8, widths=(32, 64), input_skip=True, classes=10)";
        string time = $"torch.tensor([{string.Join(", ", times)}])";

        PythonTwin.AssertClose(ours, PythonTwin.Run(model, twin, x, $"model(x, {time}, torch.tensor([{string.Join(", ", labels)}]))"), 1e-5);
        PythonTwin.AssertClose(oursUnlabelled, PythonTwin.Run(model, twin, x, $"model(x, {time})"), 1e-5);
    }

    [SkippableFact]
    public void LogVarianceVaeWithHead_ExportedAsPt_GivesOurPosteriorAndKl()
    {
        PythonTwin.SkipUnlessTorch();
        manual_seed(4);
        var config = new VaeConfig { Sigma = SigmaParameterization.LogVariance, HeadChannels = 32, LatentChannels = 8, KlWeight = 0.01 };
        using var model = new Vae(config);
        model.eval();
        using Tensor x = TestPaths.FixtureInputs().narrow(0, 0, 8);       // (8, 1, 32, 32)
        using var noGrad = no_grad();
        (Tensor mu, Tensor sigma) = model.Encode(x);
        using Tensor ours = cat([mu, sigma], 1);                           // (8, 16, 4, 4)
        using Tensor kl = model.Kl(mu, sigma);                             // (8,)
        mu.Dispose();
        sigma.Dispose();
        const string twin = "VAE(latent_channels=8, head_channels=32, sigma='logvar')";

        PythonTwin.AssertClose(ours, PythonTwin.Run(model, twin, x, "torch.cat(model.encode(x), 1)"), 1e-5);
        PythonTwin.AssertClose(kl, PythonTwin.Run(model, twin, x, "model.kl(*model.encode(x))"), 1e-3);   // sums of 128 terms of size ~1-10
    }
}
