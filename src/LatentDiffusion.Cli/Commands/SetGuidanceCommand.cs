using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Diffusion;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm diffusion set-guidance --model FILE --guidance W | --clear</c>: record the guidance weight a class-conditional model samples with by default.</summary>
public static class SetGuidanceCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The class-conditional model file; its weights stay as they are.", Required = true };
        var guidance = new Option<double?>("--guidance") { Description = $"The weight w in [0, {Guidance.MaxWeight}] chosen for this model, e.g. by ldm reproduce conditional's sweep." };
        var clear = new Option<bool>("--clear") { Description = $"Remove the record: the model samples with the shipped default, {Training.Recipes.Guidance.ToString(CultureInfo.InvariantCulture)}." };
        var command = new Command("set-guidance",
            "Record in a class-conditional model the guidance weight that ldm generate, ldm serve, the reproductions and the ONNX export use when none is asked for.")
        {
            model, guidance, clear,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            string path = CliApp.RequireFile(parse.GetValue(model), "--model");
            double? w = parse.GetValue(guidance);
            bool remove = parse.GetValue(clear);
            if (w is null == !remove) throw new InvalidOptionException("give --guidance W or --clear (one of them)");
            if (w is double given && Guidance.WeightProblem(given, "--guidance") is { } problem) throw new InvalidOptionException(problem);
            DiffusionConfig config = RecordedGuidance.Record(path, w);
            CliApp.Out.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"{path}: samples with guidance {config.DefaultGuidance} by default{(config.Guidance is null ? " (the shipped default, nothing recorded)" : "")}.");
            return CliApp.Ok;
        }));
        return command;
    }
}
