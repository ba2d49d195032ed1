using System.CommandLine;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm diffusion distill</c>: a few-step student from an α-deblending teacher.</summary>
public static class DistillCommand
{
    public static Command Create()
    {
        DistillationSettings defaults = Recipes.Distillation;
        var options = new TrainingOptions(Recipes.DistillationTraining, "runs/student");
        var teacher = new Option<string>("--teacher")
        {
            Description = "The unconditional α-deblending model to distil. Default: the shipped models/alpha-deblending-wide.safetensors.",
            DefaultValueFactory = _ => Defaults.Model("alpha-deblending-wide.safetensors"),
        };
        var evaluations = new Option<int>("--evaluations")
        {
            Description = $"The student's finest grid: it samples in this many network evaluations or any divisor of it (4: 1, 2 or 4), at most {StudentConfig.MaxGridSteps}.",
            DefaultValueFactory = _ => defaults.GridSteps,
        };
        var pairs = new Option<int>("--pairs") { Description = $"Teacher (noise, sample) pairs to train on, made in chunks of {TeacherPairs.ChunkSize:N0} under OUT/pairs (kept and reused; ~1 KiB each).", DefaultValueFactory = _ => defaults.Pairs };
        var teacherSampler = new Option<string>("--teacher-sampler") { Description = "The teacher's sampler that makes the pairs.", DefaultValueFactory = _ => defaults.TeacherSampler };
        teacherSampler.AcceptOnlyFromAmong(Samplers.All.Where(s => s.Objective == DiffusionObjective.AlphaDeblending && s != Samplers.Student).Select(s => s.Name).ToArray());
        var teacherSteps = new Option<int>("--teacher-steps") { Description = "The teacher's sampler's steps.", DefaultValueFactory = _ => defaults.TeacherSteps };
        var init = new Option<string?>("--init")
        {
            Description = "Start the student from this unconditional α-deblending model's weights instead of the teacher's: a smaller UNet on the teacher's latents " +
                "(e.g. models/alpha-deblending.safetensors, widths (32, 64): a quarter of the wide teacher's FLOPs per evaluation) makes a cheaper student.",
        };
        var json = CommonOptions.JsonOption();
        var command = new Command("distill",
            "Distil an α-deblending model into a student that samples in 1, 2 or 4 evaluations: the teacher integrates --pairs noises " +
            "(resumably, under OUT/pairs), then the student, starting from the teacher's weights, learns the straight line from each " +
            "noise to its sample at the α levels of its grid (rectified flow's k-step distillation). Resume with --resume.")
        {
            teacher, evaluations, pairs, teacherSampler, teacherSteps, init,
        };
        options.AddTo(command, data: false);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, Recipes.DistillationTraining);
            int grid = parse.GetValue(evaluations);
            if (grid < 1 || grid > StudentConfig.MaxGridSteps)
                throw new InvalidOptionException($"--evaluations must be in 1..{StudentConfig.MaxGridSteps} (got {grid})");
            int count = CommonOptions.RequireCount(parse.GetValue(pairs), "--pairs");
            int steps = parse.GetValue(teacherSteps);
            if (steps < 1 || steps > AlphaDeblending.MaxSteps) throw new InvalidOptionException($"--teacher-steps must be in 1..{AlphaDeblending.MaxSteps} (got {steps})");
            string teacherPath = CliApp.RequireFile(parse.GetValue(teacher), "teacher");
            string? initPath = parse.GetValue(init) is string i ? CliApp.RequireFile(i, "init") : null;
            var settings = defaults with { GridSteps = grid, Pairs = count, TeacherSampler = parse.GetValue(teacherSampler)!, TeacherSteps = steps, Seed = config.Seed };
            string run = parse.GetValue(options.Out)!;
            using DistillationRun distillation = ConsoleProgress.Run(
                $"teacher pairs ({settings.TeacherSampler} {steps} steps, {count:N0} + {settings.ValidationPairs:N0} held out)",
                p => Distillation.Prepare(teacherPath, run, settings, p, CliApp.Stop.Token, initPath));
            using TrainingResult<UNet> result = SpectreTrainingObserver.Run(observer =>
                new Trainer<UNet>(config, observer) { EmaSweep = options.Sweep(parse) }.Train(distillation.Task, run, parse.GetValue(options.Resume), CliApp.Stop.Token));
            Part2Commands.PrintTrained(result.History, result.TrainingSeconds, run, parse.GetValue(json), result.Model.ParameterCount());
            return CliApp.Ok;
        }));
        return command;
    }
}
