using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Experiments;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm pipeline --data DIR --out runs/NAME</c>: a user's labelled images to a classifier, a latent VAE (its decoder perceptually tuned) and a class-conditional generator (<see cref="Pipeline"/>).</summary>
public static class PipelineCommand
{
    public static Command Create()
    {
        var data = CommonOptions.DataOption(required: true);
        var outDir = new Option<string>("--out")
        {
            Description = "The pipeline's folder (new, empty, or a pipeline's to resume): the stages' runs in train/, the finished models as a model set " +
                          "(classifier, latent-vae, conditional .safetensors with their config and history; latent-vae is the tuned decoder unless --no-decoder-tuning), " +
                          "for ldm serve --models.",
            Required = true,
        };
        var budget = new Option<double?>("--budget-minutes")
        {
            Description = "Fit the pipeline in about M minutes: each stage's training steps are timed first, and every stage trains the same fraction " +
                          "(at most 1) of its recipe's epochs, so the minutes left after loading are split in proportion to the recipes' timed cost; " +
                          "at least one epoch each. The plan is recorded and a resume keeps it. Default: the recipes' epochs.",
        };
        var reportSamples = new Option<int>("--report-samples")
        {
            Description = "The last stage's samples per generator row of the FID table (unguided and guided, balanced over the classes).",
            DefaultValueFactory = _ => new PipelineSettings().ReportSamples,
        };
        var noTuning = new Option<bool>("--no-decoder-tuning")
        {
            Description = "Leave out stages 3 and 4: a second classifier (the classifier's recipe, seed + 1) and the decoder's tuning against its features " +
                          "(squared error + a perceptual term, the encoder frozen). They cost that classifier's training again and the tuning's epochs " +
                          "(the plan times both); they buy sharper reconstructions and samples: the VAE's own decoder blurs, which floors every generator's FID " +
                          "(the tuning halved the generator's FID on MNIST and cut Fashion-MNIST's five-fold, docs/numbers.md). The generator trains on the same latents either way; with --budget-minutes the two stages take their share of M. " +
                          "Recorded with the plan: a resume must give the same.",
        };
        var latentSide = new Option<int?>("--latent-side")
        {
            Description = "Side of the latent VAE's latents: 4 (the series: 8 x 4 x 4, default) or 8 (Recipes.LatentVae8: 4 x 8 x 8 from a VAE with one level " +
                          "fewer, 10 epochs; it keeps textures the 4x4 latent loses; the generator is then the wide UNet (64, 128) for 40 epochs: the shipped Fashion-MNIST recipes, docs/datasets.md).",
        };
        var dataOptions = new DataOptions();
        var json = CommonOptions.JsonOption();
        var command = new Command("pipeline",
            "Train on your labelled images, stage by stage: (1) part 1's classifier (for the data's FID), (2) the latent VAE, (3) a second classifier and " +
            "(4) the VAE's decoder tuned against its features (--no-decoder-tuning leaves both out), (5) the class-conditional α-deblending generator on the VAE's " +
            "latents, then the series' FID table and a report (OUT/report). Each stage is resumable and skipped when done; rerun the same command to continue.")
        {
            data, outDir, budget, noTuning, latentSide, reportSamples, json,
        };
        dataOptions.AddTo(command);
        command.SetAction(CliApp.Action(parse =>
        {
            var settings = new PipelineSettings
            {
                BudgetMinutes = parse.GetValue(budget),
                DecoderTuning = !parse.GetValue(noTuning),
                ReportSamples = CommonOptions.RequireCount(parse.GetValue(reportSamples), "--report-samples"),
            };
            if (parse.GetValue(latentSide) is { } side)
            {
                try
                {
                    Recipe<LatentDiffusion.Models.VaeConfig> recipe = Recipes.LatentVaeAt(side);
                    settings = settings with { LatentVae = recipe.Model, LatentVaeTraining = recipe.Training, ConditionalTraining = Recipes.ConditionalTrainingAt(side) };
                }
                catch (ArgumentException e) { throw new InvalidOptionException($"--latent-side: {e.Message.Split(" (Parameter")[0]}"); }
            }
            if (settings.BudgetMinutes is { } minutes && !(minutes > 0 && double.IsFinite(minutes)))
                throw new InvalidOptionException(string.Create(CultureInfo.InvariantCulture, $"--budget-minutes must be a positive number of minutes (got {minutes})"));
            var options = dataOptions.Read(parse);
            PipelineResult result = Pipeline.Run(parse.GetValue(data)!, options, parse.GetValue(outDir)!, settings, new ConsoleObserver(), CliApp.Stop.Token);
            Print(result);
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    model_set = result.ModelSet,
                    classifier = ModelSet.WeightsPath(result.ModelSet, ModelSet.Classifier),
                    latent_vae = ModelSet.WeightsPath(result.ModelSet, ModelSet.LatentVae),   // the tuned decoder, unless --no-decoder-tuning
                    latent_vae_base = result.Weights(ModelSet.LatentVae),                    // the trained VAE, whose latents the generator learned
                    conditional = ModelSet.WeightsPath(result.ModelSet, ModelSet.Conditional),
                    budget_minutes = result.Plan.BudgetMinutes,
                    stages = result.Stages.Select(s => new
                    {
                        name = s.Name, epochs = s.Epochs, skipped = s.Skipped, training_seconds = s.TrainingSeconds, seconds = s.Seconds, weights = s.Weights,
                    }),
                    seconds = result.Seconds,
                    report = result.ReportDirectory,
                    fid = result.Table?.Rows.Select(r => new
                    {
                        name = r.Name, fid = r.Fid, ratio_to_validation = r.RatioToValidation, precision = r.Manifold?.Precision, recall = r.Manifold?.Recall,
                        density = r.Manifold?.Density, coverage = r.Manifold?.Coverage, memorised_fraction = r.MemorisedFraction,
                    }),
                });
            return CliApp.Ok;
        }));
        return command;
    }

    static void Print(PipelineResult result)
    {
        var table = new Table().AddColumns("stage", "epochs", "this run", "training").Title("ldm pipeline");
        foreach (StageResult s in result.Stages)
            table.AddRow(s.Name, s.Epochs.ToString(CultureInfo.InvariantCulture), s.Skipped ? "skipped (done)" : "trained", PipelineProgress.Duration(s.TrainingSeconds));
        CliApp.Out.Write(table);
        if (result.Table is { } fid) ReproduceDataset.Print(fid);
        CliApp.Out.MarkupLineInterpolated($"Model set: [bold]{result.ModelSet}[/] ({PipelineProgress.Duration(result.Seconds)}); report {result.ReportDirectory}; try ldm serve --models {result.ModelSet}");
    }

    /// <summary>Stage lines and notices on stderr; each stage's epochs as the train commands print them without a terminal; Ctrl-C as for them.</summary>
    sealed class ConsoleObserver : IPipelineObserver
    {
        public void Notice(string line) => CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] {line}");

        public void Progress(PipelineProgress progress) => CliApp.Err.MarkupLineInterpolated($"[bold]{progress.ToString()}[/]");

        public ITrainingObserver? Training { get; } = new SpectreTrainingObserver(null);

        public IExperimentObserver Report => ConsoleProgress.Instance;

        /// <summary>A stage's training stops cleanly at the first Ctrl-C; loading the data or timing the steps ends at once, as without a handler.</summary>
        public IDisposable StopSection() => CliApp.Stop.Graceful();
    }
}
