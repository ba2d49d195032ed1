using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>How a student is distilled: the teacher's sampler and steps that make the pairs, how many, and the student's grid.</summary>
public sealed record DistillationSettings
{
    public string TeacherSampler { get; init; } = "iadb2m";
    public int TeacherSteps { get; init; } = 10;
    public int Pairs { get; init; } = 60_000;
    public int ValidationPairs { get; init; } = TeacherPairs.ChunkSize;
    public int GridSteps { get; init; } = 4;
    public long Seed { get; init; }

    /// <summary>Teacher pairs made per sampler batch.</summary>
    public int BatchSize { get; init; } = 1000;
}

/// <summary>A prepared distillation: the pairs, the student's config and the task to train; disposes the pairs.</summary>
public sealed class DistillationRun(DistillationTask task, DiffusionConfig config, Tensor[] owned) : IDisposable
{
    public DistillationTask Task { get; } = task;
    public DiffusionConfig Config { get; } = config;

    public void Dispose()
    {
        foreach (Tensor t in owned) t.Dispose();
    }
}

/// <summary>
/// Distils an α-deblending teacher into a few-step student (<see cref="DistillationTask"/>): the teacher's pairs are
/// made (or reused) under <c>RUN/pairs/train</c> and <c>RUN/pairs/validation</c>, then the shared <see cref="Trainer{TModel}"/>
/// trains the student in RUN like any model (locked, checkpointed, resumable).
/// </summary>
public static class Distillation
{
    /// <summary>Why <paramref name="config"/>'s model cannot be a teacher (null: it can).</summary>
    public static string? TeacherProblem(DiffusionConfig config) =>
        config.Objective != DiffusionObjective.AlphaDeblending ? $"is {config.KindName}; distillation needs an α-deblending teacher (ldm diffusion train --objective iadb)"
        : config.Student is not null ? $"is already {config.KindName}; distil from its teacher"
        : config.UNet.Classes > 0 ? "is class-conditional; distillation takes an unconditional α-deblending teacher"
        : null;

    /// <summary>
    /// Why <paramref name="init"/>'s model cannot be where a student of <paramref name="teacher"/> starts (null: it can):
    /// it must be an unconditional α-deblending model, not a student, in the teacher's latent space — the same latent
    /// shape, VAE, latent scale and α scale — since it learns the teacher's pairs as they are.
    /// </summary>
    public static string? InitProblem(DiffusionConfig init, DiffusionConfig teacher) =>
        init.Objective != DiffusionObjective.AlphaDeblending ? $"is {init.KindName}; a student starts from an α-deblending model"
        : init.Student is not null ? $"is already {init.KindName}; start from an α-deblending model"
        : init.UNet.Classes > 0 ? "is class-conditional; a student starts from an unconditional α-deblending model"
        : !init.LatentShape.SequenceEqual(teacher.LatentShape) ? $"works on latents ({string.Join(", ", init.LatentShape)}), the teacher on ({string.Join(", ", teacher.LatentShape)})"
        : init.VaeSha256 != teacher.VaeSha256 || init.LatentScale != teacher.LatentScale ? "works in another VAE's latents or at another latent scale than the teacher"
        : init.AlphaScale != teacher.AlphaScale ? $"feeds α·{init.AlphaScale} to its network, the teacher α·{teacher.AlphaScale}"
        : null;

    /// <summary>
    /// The student's settings: those of the model it starts from (the teacher, or <paramref name="initPath"/>'s
    /// <paramref name="start"/>), with what it is distilled for.
    /// </summary>
    public static DiffusionConfig ConfigFor(DiffusionConfig start, string teacherPath, DistillationSettings settings, string? initPath = null) => start with
    {
        Student = new StudentConfig
        {
            GridSteps = settings.GridSteps,
            TeacherSha256 = ModelWeights.Sha256(teacherPath),
            InitSha256 = initPath is null ? null : ModelWeights.Sha256(initPath),
            TeacherSampler = settings.TeacherSampler,
            TeacherSteps = settings.TeacherSteps,
            Pairs = settings.Pairs,
        },
    };

    /// <summary>
    /// Loads the teacher, makes the pairs that are missing (<paramref name="progress"/>: pairs made, of the total) and
    /// returns the task. The pairs folder is locked while pairs are made. The student starts from the teacher's weights,
    /// or from <paramref name="initPath"/>'s (<see cref="InitProblem"/>), whose UNet it then is.
    /// </summary>
    public static DistillationRun Prepare(string teacherPath, string runDirectory, DistillationSettings settings,
        Action<long, long>? progress = null, CancellationToken cancel = default, string? initPath = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Pairs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.ValidationPairs);
        (UNet teacher, DiffusionConfig teacherConfig) = ModelFile.LoadDiffusion(teacherPath);
        using (teacher)
        {
            if (TeacherProblem(teacherConfig) is { } problem) throw new DataFormatException(teacherPath, problem);
            DiffusionConfig start = teacherConfig;
            if (initPath is not null)
            {
                (UNet init, start) = ModelFile.LoadDiffusion(initPath);
                init.Dispose();
                if (InitProblem(start, teacherConfig) is { } unfit) throw new DataFormatException(initPath, unfit);
            }
            DiffusionConfig config = ConfigFor(start, teacherPath, settings, initPath);
            config.Validate();
            string sha = config.Student!.TeacherSha256!;
            string pairs = Path.Combine(runDirectory, "pairs");
            Directory.CreateDirectory(pairs);
            Tensor noise, samples, validationNoise, validationSamples;
            using (RunLock.Acquire(pairs))
            {
                var spec = new TeacherPairsSpec(sha, settings.TeacherSampler, settings.TeacherSteps, settings.Seed, settings.BatchSize);
                long total = settings.Pairs + settings.ValidationPairs;
                (noise, samples) = TeacherPairs.Ensure(Path.Combine(pairs, "train"), teacher, teacherConfig, spec, settings.Pairs,
                    (done, _) => progress?.Invoke(Math.Min(done, settings.Pairs), total), cancel);
                (validationNoise, validationSamples) = TeacherPairs.Ensure(Path.Combine(pairs, "validation"), teacher, teacherConfig,
                    spec with { Seed = settings.Seed + 1 }, settings.ValidationPairs,
                    (done, _) => progress?.Invoke(settings.Pairs + Math.Min(done, settings.ValidationPairs), total), cancel);
            }
            var task = new DistillationTask(noise, samples, validationNoise, validationSamples, config, initPath ?? teacherPath);
            return new DistillationRun(task, config, [noise, samples, validationNoise, validationSamples]);
        }
    }
}
