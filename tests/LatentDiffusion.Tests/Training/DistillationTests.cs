using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

/// <summary>
/// The distilled student: the teacher's pairs (resumable, tied to their teacher and sampler), the k-step loss, resume
/// (2 + 2 = 4), what the student records, and the sampler rules (only <c>student</c> fits it, at its grid's divisors).
/// </summary>
[Collection("Torch")]
public sealed class DistillationTests
{
    static readonly DiffusionConfig TinyTeacher = new()
    {
        UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] },
        Objective = DiffusionObjective.AlphaDeblending,
    };

    static readonly TrainingConfig Small = new() { Epochs = 4, BatchSize = 32, LogEvery = 1, CheckpointEvery = 1, Seed = 5, EmaDecay = 0.9 };

    static readonly DistillationSettings Settings = new() { Pairs = 96, ValidationPairs = 32, GridSteps = 4, TeacherSteps = 3, BatchSize = 40, Seed = 7 };

    static string SaveTeacher(TempDirectory dir, DiffusionConfig config, string name = "teacher.safetensors")
    {
        manual_seed(11);
        using var unet = new UNet(config.UNet);
        string path = dir.File(name);
        ModelWeights.Save(unet, path, new Dictionary<string, string> { ["architecture"] = nameof(UNet), ["config"] = JsonSerializer.Serialize(config) });
        return path;
    }

    static void AssertSameWeights(nn.Module a, nn.Module b)
    {
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.True(t.equal(sb[name]).all().all().item<bool>(), $"{name} differs");
    }

    [Fact]
    public void Pairs_AreTheTeachersSamplesFromTheirNoise_AndAResumedFolderMakesOnlyTheMissingChunks()
    {
        using var dir = new TempDirectory();
        string teacherPath = SaveTeacher(dir, TinyTeacher);
        using var run = Distillation.Prepare(teacherPath, dir.File("run"), Settings);
        Assert.Equal([96L, 2, 4, 4], run.Task.Noise.shape);
        Assert.Equal([32L, 2, 4, 4], run.Task.ValidationSamples.shape);

        // The first pair: the teacher's iadb2m from that very noise (the sampler's first draw of a generator of the batch's seed).
        (UNet teacher, DiffusionConfig config) = ModelFile.LoadDiffusion(teacherPath);
        using (teacher)
        using (no_grad())
        using (NoiseSchedule schedule = config.CreateSchedule())
        using (var generator = new Generator(unchecked(7UL * 1_000_003UL)))
        {
            long[] shape = [40, 2, 4, 4];
            using Tensor x0 = Samplers.AlphaDpmSolver.Sample(new SamplerRun(teacher.forward, config, schedule, shape, generator, 3, 0, null, null, 0));
            using var noiseGenerator = new Generator(unchecked(7UL * 1_000_003UL));
            using Tensor x1 = randn(shape, generator: noiseGenerator);
            Assert.True(x1.equal(run.Task.Noise.narrow(0, 0, 40)).all().item<bool>());
            Assert.True(x0.equal(run.Task.Samples.narrow(0, 0, 40)).all().item<bool>());
        }

        // More pairs later: the folder keeps its chunk size (96) and adds one chunk; the first stays as it was.
        string chunk0 = Path.Combine(dir.File("run"), "pairs", "train", "chunk-0000.safetensors");
        DateTime written = File.GetLastWriteTimeUtc(chunk0);
        using var more = Distillation.Prepare(teacherPath, dir.File("run"), Settings with { Pairs = 150 });
        Assert.Equal(150, more.Task.Noise.shape[0]);
        Assert.Equal(written, File.GetLastWriteTimeUtc(chunk0));
        Assert.True(File.Exists(Path.Combine(dir.File("run"), "pairs", "train", "chunk-0001.safetensors")));
        Assert.True(more.Task.Noise.narrow(0, 0, 96).equal(run.Task.Noise).all().item<bool>());

        // Another teacher sampler into the same folder is refused, naming the folder.
        var e = Assert.Throws<DataFormatException>(() => Distillation.Prepare(teacherPath, dir.File("run"), Settings with { TeacherSampler = "heun" }));
        Assert.Contains("another teacher or sampler", e.Message);
        Assert.Contains(Path.Combine("run", "pairs", "train"), e.Message);
    }

    [Fact]
    public void Distil_TwoPlusTwoEpochs_EqualsFourBitForBit_AndTheStudentRecordsWhatItSamples()
    {
        using var dir = new TempDirectory();
        string teacherPath = SaveTeacher(dir, TinyTeacher);
        using var run = Distillation.Prepare(teacherPath, dir.File("pairs-run"), Settings);
        using var straight = new Trainer<UNet>(Small).Train(run.Task, dir.File("straight"));
        new Trainer<UNet>(Small with { Epochs = 2 }).Train(run.Task, dir.File("resumed")).Dispose();
        manual_seed(999);
        using var resumed = new Trainer<UNet>(Small).Train(run.Task, dir.File("resumed"), resume: true);
        AssertSameWeights(straight.Model, resumed.Model);
        Assert.Equal(straight.History.Select(h => h.ValLoss), resumed.History.Select(h => h.ValLoss));
        Assert.Equal(["one_step"], resumed.History[^1].Metrics.Select(m => m.Key));

        (UNet student, DiffusionConfig config) = ModelFile.LoadDiffusion(dir.File(Path.Combine("straight", RunDirectory.ModelFileName)));
        using (student)
        {
            Assert.Equal(4, config.Student!.GridSteps);
            Assert.Equal(ModelWeights.Sha256(teacherPath), config.Student.TeacherSha256);
            Assert.Equal(("iadb2m", 3, 96), (config.Student.TeacherSampler, config.Student.TeacherSteps, config.Student.Pairs));
            Assert.Equal([1, 2, 4], config.Student.SupportedSteps());
            Assert.Equal([Samplers.Student], Samplers.For(config));
            Assert.Same(Samplers.Student, Samplers.Default(config));
            Assert.Equal(4, new SamplingOptions().StepsFor(config));
        }
    }

    [Fact]
    public void StudentTraining_StartsFromTheTeacher_AndTheLossIsTheStraightLineAtTheGridLevels()
    {
        using var dir = new TempDirectory();
        string teacherPath = SaveTeacher(dir, TinyTeacher);
        using var run = Distillation.Prepare(teacherPath, dir.File("run"), Settings with { GridSteps = 1 });
        using UNet model = run.Task.CreateModel();
        (UNet teacher, _) = ModelFile.LoadDiffusion(teacherPath);
        using (teacher) AssertSameWeights(teacher, model);

        // A one-step grid trains at α = 1 only: x_1 is the noise, and the target is x1 − x0.
        model.eval();
        using var noGrad = no_grad();
        using var generator = new Generator(1);
        using Tensor indices = arange(0, 8, dtype: ScalarType.Int64);
        using Tensor loss = run.Task.Loss(model, indices, generator).Loss;
        Tensor x1 = run.Task.Noise.narrow(0, 0, 8), x0 = run.Task.Samples.narrow(0, 0, 8);
        using Tensor predicted = model.forward(x1, full([8], TinyTeacher.AlphaScale));
        using Tensor expected = nn.functional.mse_loss(predicted, x1 - x0);
        Assert.Equal(expected.item<float>(), loss.item<float>(), 6);
    }

    [Fact]
    public void Init_ASmallerModelOnTheTeachersLatents_IsWhereTheStudentStarts_AndIsRecorded()
    {
        using var dir = new TempDirectory();
        string teacherPath = SaveTeacher(dir, TinyTeacher);
        string smaller = SaveTeacher(dir, TinyTeacher with { UNet = TinyTeacher.UNet with { Widths = [4, 8] } }, "small.safetensors");
        using var run = Distillation.Prepare(teacherPath, dir.File("run"), Settings, initPath: smaller);
        Assert.Equal([4, 8], run.Config.UNet.Widths);
        Assert.Equal(ModelWeights.Sha256(smaller), run.Config.Student!.InitSha256);
        Assert.Equal(ModelWeights.Sha256(teacherPath), run.Config.Student.TeacherSha256);
        using (UNet model = run.Task.CreateModel())
        {
            (UNet start, _) = ModelFile.LoadDiffusion(smaller);
            using (start) AssertSameWeights(start, model);
        }
        new Trainer<UNet>(Small with { Epochs = 1 }).Train(run.Task, dir.File("student")).Dispose();
        (UNet student, DiffusionConfig config) = ModelFile.LoadDiffusion(dir.File(Path.Combine("student", RunDirectory.ModelFileName)));
        using (student)
        {
            Assert.Equal([4, 8], config.UNet.Widths);
            Assert.Equal(ModelWeights.Sha256(smaller), config.Student!.InitSha256);
            Assert.Same(Samplers.Student, Samplers.Default(config));
        }
        // A student from its teacher's weights writes no InitSha256: its config stays as before.
        Assert.DoesNotContain("InitSha256", JsonSerializer.Serialize(Distillation.ConfigFor(TinyTeacher, teacherPath, Settings)));
    }

    [Fact]
    public void Inits_ThatCannotStartAStudent_AreRefusedNamingTheFile()
    {
        using var dir = new TempDirectory();
        string teacherPath = SaveTeacher(dir, TinyTeacher);
        string eps = SaveTeacher(dir, TinyTeacher with { Objective = DiffusionObjective.Epsilon }, "eps.safetensors");
        string conditional = SaveTeacher(dir, TinyTeacher with { UNet = TinyTeacher.UNet with { Classes = 10 } }, "conditional.safetensors");
        string channels = SaveTeacher(dir, TinyTeacher with { UNet = TinyTeacher.UNet with { LatentChannels = 3 } }, "channels.safetensors");
        string scale = SaveTeacher(dir, TinyTeacher with { LatentScale = 2 }, "scale.safetensors");
        string student = SaveTeacher(dir, TinyTeacher with { Student = new StudentConfig { GridSteps = 2 } }, "student.safetensors");
        foreach ((string path, string says) in new[]
        {
            (eps, "a student starts from an α-deblending model"), (conditional, "class-conditional"), (channels, "the teacher on (2, 4, 4)"),
            (scale, "another latent scale"), (student, "already a distilled"),
        })
        {
            var e = Assert.Throws<DataFormatException>(() => Distillation.Prepare(teacherPath, dir.File("run-" + Path.GetFileNameWithoutExtension(path)), Settings, initPath: path));
            Assert.StartsWith(path, e.Message);
            Assert.Contains(says, e.Message);
        }
        string notAModel = dir.File("notes.safetensors");
        File.WriteAllText(notAModel, "not a model");
        var bad = Assert.Throws<DataFormatException>(() => Distillation.Prepare(teacherPath, dir.File("run-bad"), Settings, initPath: notAModel));
        Assert.StartsWith(notAModel, bad.Message);
    }

    [Fact]
    public void Teachers_ThatCannotTeach_AreRefusedNamingTheFile()
    {
        using var dir = new TempDirectory();
        string eps = SaveTeacher(dir, TinyTeacher with { Objective = DiffusionObjective.Epsilon }, "eps.safetensors");
        string conditional = SaveTeacher(dir, TinyTeacher with { UNet = TinyTeacher.UNet with { Classes = 10 } }, "conditional.safetensors");
        string student = SaveTeacher(dir, TinyTeacher with { Student = new StudentConfig { GridSteps = 2 } }, "student.safetensors");
        foreach ((string path, string says) in new[] { (eps, "needs an α-deblending teacher"), (conditional, "class-conditional"), (student, "already a distilled") })
        {
            var e = Assert.Throws<DataFormatException>(() => Distillation.Prepare(path, dir.File("run"), Settings));
            Assert.StartsWith(path, e.Message);
            Assert.Contains(says, e.Message);
        }
    }

    [Fact]
    public void StudentSampler_FitsStudentsOnly_AtTheirGridsDivisors()
    {
        DiffusionConfig student = TinyTeacher with { Student = new StudentConfig { GridSteps = 4 } };
        Assert.Contains("does not fit a distilled α-deblending student for 1, 2 or 4 steps; use student",
            new SamplingOptions { Sampler = Samplers.AlphaHeun }.Problem(student));
        Assert.Contains("does not fit an α-deblending (x1 − x0) model",
            new SamplingOptions { Sampler = Samplers.Student }.Problem(TinyTeacher));
        Assert.DoesNotContain(Samplers.Student, Samplers.For(TinyTeacher));
        foreach (int steps in new[] { 0, 3, 5, 8 })
            Assert.Equal($"this student samples in 1, 2 or 4 steps (got {steps})", new SamplingOptions { Steps = steps }.Problem(student));
        foreach (int steps in new[] { 1, 2, 4 })
            Assert.Null(new SamplingOptions { Steps = steps }.Problem(student));
        Assert.Throws<ArgumentException>(() => (TinyTeacher with { Objective = DiffusionObjective.Epsilon, Student = new StudentConfig { GridSteps = 4 } }).Validate());
        // A model without a student record writes no "Student" key: every other model's settings JSON is as before.
        Assert.DoesNotContain("Student", JsonSerializer.Serialize(TinyTeacher));
    }
}
