using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

[Collection("Torch")]
public sealed class FidBaselinesTests
{
    [Fact]
    public void Compute_SyntheticData_GivesValidationBelowRandomAndRatios()
    {
        using Classifier classifier = TestPaths.LoadFixtureClassifier();
        MnistData data = SyntheticData.Dataset(train: 400, test: 200);
        FidBaselineResult first = FidBaselines.Compute(classifier, data, seed: 0);
        FidBaselineResult again = FidBaselines.Compute(classifier, data, seed: 0);
        FidBaselineResult other = FidBaselines.Compute(classifier, data, seed: 1);

        Assert.Equal(["Validation", "Random"], first.Rows.Select(r => r.Name));
        FidBaselineRow validation = first.Rows[0], random = first.Rows[1];
        Assert.True(validation.Fid < random.Fid, $"validation {validation.Fid} vs random {random.Fid}");
        Assert.Equal(1.0, random.RatioToRandom);
        Assert.Equal(validation.Fid / random.Fid, validation.RatioToRandom, 15);
        Assert.Equal(0.30, validation.BlogFid);
        Assert.Equal(48.43, random.BlogFid);
        Assert.Equal(0.0062, validation.BlogRatioToRandom!.Value, 4);
        Assert.Equal(200, first.RandomCount);
        Assert.Equal(first.Rows, again.Rows);                                 // seeded: reproducible
        Assert.NotEqual(first.Rows[1].Fid, other.Rows[1].Fid);
        Assert.Equal(first.Rows[0].Fid, other.Rows[0].Fid);                   // Validation uses no noise
    }

    [Fact]
    public void RandomImages_FollowPerPixelStatisticsClippedAndPadded()
    {
        MnistSplit train = SyntheticData.Split(500, seed: 9);
        using Tensor images = FidBaselines.RandomImages(train.Images, 300, seed: 0);
        Assert.Equal([300L, 1, 32, 32], images.shape);
        Assert.True(images.min().item<float>() >= 0f && images.max().item<float>() <= 1f);
        // The padding has σ = 0 and μ = 0: exactly 0.
        using Tensor border = images.narrow(2, 0, 2);
        Assert.Equal(0f, border.abs().max().item<float>());
        // Overall brightness follows the training set (clipping at 0 lifts it slightly).
        double trainMean = train.Images.Pixels.Average(p => p / 255.0) * 28 * 28 / (32 * 32);
        double noiseMean = images.mean().item<float>();
        Assert.True(Math.Abs(noiseMean - trainMean) < 0.01, $"noise mean {noiseMean:F4} vs training mean {trainMean:F4}");
        using Tensor again = FidBaselines.RandomImages(train.Images, 300, seed: 0);
        Assert.True(images.equal(again).all().item<bool>());
    }
}
