using LatentDiffusion.Data;
using LatentDiffusion.Experiments;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Experiments;

/// <summary>The budget rule and the stages' training configs: recipes unchanged without a budget or on MNIST, one fraction of every recipe with one.</summary>
public sealed class PipelinePlanTests
{
    static readonly (string, int, double)[] Stages = [("classifier", 100, 2.0), ("latent-vae", 20, 30.0), ("conditional", 100, 3.0)];

    [Fact]
    public void Fit_WithoutBudget_TrainsTheRecipesEpochs()
    {
        PipelinePlan plan = PipelinePlan.Fit(null, 1000, Stages);
        Assert.Null(plan.BudgetMinutes);
        Assert.Equal([100, 20, 100], plan.Stages.Select(s => s.Epochs));
        Assert.Equal(100 * 2.0 + 20 * 30.0 + 100 * 3.0, plan.EstimatedSeconds);
    }

    [Fact]
    public void Fit_WithBudget_TrainsOneFractionOfEveryRecipe_AfterWhatWasSpent()
    {
        // The recipes take 200 + 600 + 300 = 1100 s; 10 minutes less 50 s spent leave 550 s: half of each recipe.
        PipelinePlan plan = PipelinePlan.Fit(10, 50, Stages);
        Assert.Equal(10, plan.BudgetMinutes);
        Assert.Equal([50, 10, 50], plan.Stages.Select(s => s.Epochs));
        Assert.Equal([100, 20, 100], plan.Stages.Select(s => s.RecipeEpochs));
        Assert.True(plan.EstimatedSeconds <= 550);
    }

    [Fact]
    public void Fit_BudgetAboveTheRecipes_NeverTrainsMore_AndBelowOneEpoch_TrainsOneEach()
    {
        Assert.Equal([100, 20, 100], PipelinePlan.Fit(1000, 0, Stages).Stages.Select(s => s.Epochs));
        Assert.Equal([1, 1, 1], PipelinePlan.Fit(0.01, 30, Stages).Stages.Select(s => s.Epochs));
        Assert.Equal([33, 6, 33], PipelinePlan.Fit(6.2, 0, Stages).Stages.Select(s => s.Epochs));   // 372 / 1100 = 0.338…, rounded down
    }

    [Fact]
    public void StageTraining_OnMnist_IsTheRecipe_AndOnAFewImages_CutsTheWarmUp()
    {
        foreach (TrainingConfig recipe in new[] { new TrainingConfig(), Recipes.LatentVae.Training, Recipes.ConditionalTraining })
            Assert.Equal(recipe, PipelinePlan.StageTraining(recipe, recipe.Epochs, 60_000));
        TrainingConfig small = PipelinePlan.StageTraining(Recipes.LatentVae.Training, 5, 640);   // 20 steps an epoch, 100 in all
        Assert.Equal((5, 10, 1), (small.Epochs, small.WarmupSteps, small.CheckpointEvery));
    }

    /// <summary>The perceptual classifier: the classifier's recipe at the next seed, cut to the perceptual recipe's 40 epochs (never more than the classifier's).</summary>
    [Fact]
    public void PerceptualClassifierTraining_IsTheClassifiersAtTheNextSeed_ForAtMost40Epochs()
    {
        var settings = new PipelineSettings();
        Assert.Equal(settings.ClassifierTraining with { Seed = 1, Epochs = 40 }, settings.PerceptualClassifierTraining);
        Assert.Equal(Recipes.PerceptualClassifier.Epochs, settings.PerceptualClassifierTraining.Epochs);
        var short_ = settings with { ClassifierTraining = new TrainingConfig { Epochs = 5, Seed = 7 } };
        Assert.Equal((5, 8L), (short_.PerceptualClassifierTraining.Epochs, short_.PerceptualClassifierTraining.Seed));
    }

    [Fact]
    public void Record_WrittenBeforeDecoderTuning_ReadsAsWithout_AndAskingForItIsOneLine()
    {
        using var dir = new TempDirectory();
        var data = new DatasetInfo("pets", "/data/pets", 3, 32, ["cat", "dog"], new string('a', 64), "the train/ and test/ folders");
        var record = new PipelineRecord(data, PipelinePlan.Fit(null, 0, Stages)) { DecoderTuning = true };
        record.Write(dir.Path);
        Assert.True(PipelineRecord.Read(dir.Path)!.DecoderTuning);
        string json = File.ReadAllText(Path.Combine(dir.Path, PipelineRecord.FileName));
        string before = System.Text.RegularExpressions.Regex.Replace(json, @",\s*""DecoderTuning"":\s*true", "");
        Assert.NotEqual(json, before);
        File.WriteAllText(Path.Combine(dir.Path, PipelineRecord.FileName), before);

        PipelineRecord old = PipelineRecord.Read(dir.Path)!;
        Assert.False(old.DecoderTuning);
        Assert.Null(old.Problem(data, null, decoderTuning: false));
        string problem = old.Problem(data, null, decoderTuning: true)!;
        Assert.Contains("--no-decoder-tuning", problem);
        Assert.DoesNotContain('\n', problem);
    }
}
