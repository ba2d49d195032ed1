using System.Text;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.Models;
using LatentDiffusion.Server;

namespace LatentDiffusion.Tests.Server;

/// <summary>Requests are checked before they take a place in the queue: every bad field is one line.</summary>
public sealed class GenerationRequestTests
{
    static readonly ServerOptions Limits = new() { Folders = [ServedFolder.In("m")], MaxCount = 64, MaxSteps = 1000 };

    static ModelEntry Entry(string id, DiffusionConfig? config, string? problem = null, DatasetInfo? data = null) =>
        new(id, $"/models/{id}.safetensors", 1, DateTime.UnixEpoch, nameof(UNet), null, config, problem, data);

    static readonly DatasetInfo Fashion = new("Fashion-MNIST", "/data/fashion", 1, 32, KnownDatasets.ClassNamesOf("Fashion-MNIST"), new string('0', 64), "files");

    static readonly DiffusionConfig Epsilon = new();
    static readonly DiffusionConfig Conditional = new() { Objective = DiffusionObjective.AlphaDeblending, UNet = new UNetConfig { Classes = 10 } };
    static readonly ModelEntry[] Models = [Entry("diffusion", Epsilon), Entry("conditional", Conditional), Entry("broken", null, "broken.safetensors: bad header")];

    static string? Problem(string json)
    {
        (GenerationRequest? request, string? problem) = GenerationRequest.Parse(Encoding.UTF8.GetBytes(json));
        if (request is null) return problem;
        (GenerationJob? job, problem) = request.Resolve(Models, Limits);
        Assert.True(job is null == problem is not null);
        return problem;
    }

    [Theory]
    [InlineData("""{"model": "nope"}""", "unknown model 'nope' (models: diffusion, conditional, broken)")]
    [InlineData("""{"model": "broken"}""", "model 'broken' cannot be used: broken.safetensors: bad header")]
    [InlineData("""{"steps": 0}""", "steps must be between 1 and 1000 (got 0)")]
    [InlineData("""{"steps": 5000}""", "steps must be between 1 and 1000 (got 5000)")]
    [InlineData("""{"count": 100000}""", "count must be between 1 and 64 (got 100000)")]
    [InlineData("""{"count": 0}""", "count must be between 1 and 64 (got 0)")]
    [InlineData("""{"model": "conditional", "digit": 11}""", "digit must be 0-9, or absent for a random digit (got 11)")]
    [InlineData("""{"model": "conditional", "digit": -1}""", "digit must be 0-9, or absent for a random digit (got -1)")]
    [InlineData("""{"digit": 3}""", "model 'diffusion' is unconditional: it cannot be asked for a digit")]
    [InlineData("""{"guidance": 2}""", "guidance applies to class-conditional models; 'diffusion' is unconditional")]
    [InlineData("""{"model": "conditional", "guidance": -1}""", "model 'conditional': guidance must be a number in [0, 20] (0: unconditional, 1: conditional, more: more typical of the digit) (got -1)")]
    [InlineData("""{"model": "conditional", "guidance": 1e308}""", "model 'conditional': guidance must be a number in [0, 20] (0: unconditional, 1: conditional, more: more typical of the digit) (got 1E+308)")]
    [InlineData("""{"model": "conditional", "guidance": 20.5}""", "model 'conditional': guidance must be a number in [0, 20] (0: unconditional, 1: conditional, more: more typical of the digit) (got 20.5)")]
    [InlineData("""{"sampler": "ddim", "eta": 1e308}""", "model 'diffusion': eta must be a number in [0, 1] (0: deterministic DDIM, 1: DDPM's noise) (got 1E+308)")]
    [InlineData("""{"sampler": "ddim", "eta": 1.01}""", "model 'diffusion': eta must be a number in [0, 1] (0: deterministic DDIM, 1: DDPM's noise) (got 1.01)")]
    [InlineData("""{"sampler": "ddim", "eta": -1e-300}""", "model 'diffusion': eta must be a number in [0, 1] (0: deterministic DDIM, 1: DDPM's noise) (got -1E-300)")]
    [InlineData("""{"sampler": "euler"}""", "unknown sampler 'euler' (ddpm, ddim, iadb, heun, dpmpp2m, iadb2m or student)")]
    [InlineData("""{"sampler": "iadb"}""", "model 'diffusion': the iadb sampler does not fit an ε-prediction (DDPM) model; use ddpm, ddim or dpmpp2m")]
    [InlineData("""{"sampler": "ddpm", "steps": 10}""", "model 'diffusion': DDPM walks all T = 1000 steps (got 10); use ddim or dpmpp2m for fewer")]
    [InlineData("""{"model": "conditional", "eta": 0.5}""", "model 'conditional': eta applies to the ddim sampler only")]
    [InlineData("""{"steps":""", "malformed JSON: not JSON (line 1, byte 10)")]
    [InlineData("""{"foo": 1}""", "malformed JSON: unknown field 'foo' (fields: model, sampler, steps, count, seed, class, digit, guidance, eta, heun)")]
    [InlineData("""{"steps": "ten"}""", "malformed JSON: 'steps' has the wrong type")]
    [InlineData("""{"steps": 1.5}""", "malformed JSON: 'steps' has the wrong type")]
    [InlineData("""[1, 2]""", "malformed JSON: the body must be a JSON object")]
    [InlineData("""null""", "the body must be a JSON object, not null")]
    public void Resolve_BadInput_IsOneLine(string json, string expected)
    {
        string? problem = Problem(json);
        Assert.Equal(expected, problem);
        Assert.DoesNotContain('\n', problem!);
    }

    [Fact]
    public void Parse_InvalidUtf8_SaysSoAndWhere()
    {
        byte[] body = [.. "{\"model\": \"co"u8, 0xC3, 0x28, .. "\"}"u8];   // 0xC3 must be followed by a continuation byte
        (GenerationRequest? request, string? problem) = GenerationRequest.Parse(body);
        Assert.Null(request);
        Assert.Equal("malformed JSON: the body is not valid UTF-8 (from byte 14)", problem);
    }

    [Fact]
    public void Resolve_EmptyBody_TakesTheFirstModelAndItsFastSampler()
    {
        (GenerationRequest? request, _) = GenerationRequest.Parse([]);
        (GenerationJob? job, string? problem) = request!.Resolve(Models, Limits);
        Assert.Null(problem);
        Assert.Equal("diffusion", job!.Model.Id);
        Assert.Equal(Limits.DefaultCount, job.Count);
        Assert.Equal(Samplers.Ddim, job.Options.SamplerFor(Epsilon));
        Assert.Equal(50, job.Options.StepsFor(Epsilon));
        Assert.Null(job.Options.Labels);
        Assert.InRange(job.Seed, 0, int.MaxValue);
    }

    [Fact]
    public void Resolve_AModelThatRecordsItsGuidance_SamplesWithIt_UnlessTheRequestSays()
    {
        ModelEntry[] models = [Entry("tuned", Conditional with { Guidance = 4.5 })];
        GenerationJob Job(string json) => GenerationRequest.Parse(Encoding.UTF8.GetBytes(json)).Request!.Resolve(models, Limits).Job!;
        Assert.Equal(4.5, Job("""{"model": "tuned", "digit": 1}""").Options.Guidance);
        Assert.Equal(2, Job("""{"model": "tuned", "digit": 1, "guidance": 2}""").Options.Guidance);
    }

    [Fact]
    public void Resolve_Conditional_DigitForEverySample_RandomDigitsFollowTheSeed()
    {
        GenerationJob Job(string json) => GenerationRequest.Parse(Encoding.UTF8.GetBytes(json)).Request!.Resolve(Models, Limits).Job!;
        GenerationJob three = Job("""{"model": "conditional", "digit": 3, "count": 5}""");
        Assert.Equal([3, 3, 3, 3, 3], three.Options.Labels!);
        Assert.Equal(Limits.DefaultGuidance, three.Options.Guidance);
        Assert.Equal(Samplers.AlphaEuler, three.Options.SamplerFor(Conditional));
        GenerationJob random = Job("""{"model": "conditional", "count": 40, "seed": 7, "guidance": 3.5}""");
        Assert.Equal(random.Options.Labels, Job("""{"model": "conditional", "count": 40, "seed": 7}""").Options.Labels);
        Assert.True(random.Options.Labels!.Distinct().Count() > 5, "random digits, not one");
        Assert.Equal(3.5, random.Options.Guidance);
    }

    [Fact]
    public void Resolve_DdpmWithoutSteps_WalksAllT()
    {
        GenerationJob job = GenerationRequest.Parse("""{"sampler": "ddpm"}"""u8).Request!.Resolve(Models, Limits).Job!;
        Assert.Equal(1000, job.Options.StepsFor(Epsilon));
    }

    static readonly ModelEntry[] WithFashion = [.. Models, Entry("fashion-mnist/conditional", Conditional, data: Fashion)];

    static (GenerationJob? Job, string? Problem) ResolveClass(string json)
    {
        (GenerationRequest? request, string? problem) = GenerationRequest.Parse(Encoding.UTF8.GetBytes(json));
        Assert.NotNull(request);
        return request.Resolve(WithFashion, Limits);
    }

    [Theory]
    [InlineData("""{"model": "conditional", "class": 3}""", 3)]
    [InlineData("""{"model": "conditional", "class": "7"}""", 7)]
    [InlineData("""{"model": "conditional", "digit": 7}""", 7)]
    [InlineData("""{"model": "fashion-mnist/conditional", "class": "sneaker"}""", 7)]
    [InlineData("""{"model": "fashion-mnist/conditional", "class": "Ankle-Boot"}""", 9)]
    [InlineData("""{"model": "fashion-mnist/conditional", "class": 0}""", 0)]
    public void Resolve_ClassByIndexOrName_AsksEverySampleForIt(string json, int expected)
    {
        (GenerationJob? job, string? problem) = ResolveClass(json.Replace("}", ", \"count\": 3}", StringComparison.Ordinal));
        Assert.Null(problem);
        Assert.Equal(expected, job!.Class);
        Assert.Equal([expected, expected, expected], job.Options.Labels!);
    }

    [Fact]
    public void Resolve_NullClass_IsARandomClassPerSample()
    {
        (GenerationJob? job, string? problem) = ResolveClass("""{"model": "fashion-mnist/conditional", "class": null, "count": 40, "seed": 2}""");
        Assert.Null(problem);
        Assert.Null(job!.Class);
        Assert.True(job.Options.Labels!.Distinct().Count() > 5, "random classes, not one");
    }

    [Theory]
    [InlineData("""{"model": "fashion-mnist/conditional", "class": "sock"}""",
        "unknown class 'sock' for model 'fashion-mnist/conditional' (classes: t-shirt-top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot)")]
    [InlineData("""{"model": "fashion-mnist/conditional", "class": 10}""", "class must be an index 0-9 or a class name, or absent for a random class (got 10)")]
    [InlineData("""{"model": "conditional", "class": -1}""", "class must be an index 0-9 or a class name, or absent for a random class (got -1)")]
    [InlineData("""{"model": "conditional", "class": 2.5}""", "class must be an index 0-9 or a class name, or absent for a random class (got 2.5)")]
    [InlineData("""{"model": "conditional", "class": 1e400}""", "class must be an index 0-9 or a class name, or absent for a random class (got 1e400)")]
    [InlineData("""{"model": "conditional", "class": true}""", "class must be an index 0-9 or a class name, or absent for a random class (got a JSON true)")]
    [InlineData("""{"model": "conditional", "class": [1]}""", "class must be an index 0-9 or a class name, or absent for a random class (got a JSON array)")]
    [InlineData("""{"model": "conditional", "class": "seven"}""", "unknown class 'seven' for model 'conditional' (classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)")]
    [InlineData("""{"model": "conditional", "class": 3, "digit": 3}""", "give class or digit, not both (class: an index or a name; digit: an index, MNIST's name for it)")]
    [InlineData("""{"class": "3"}""", "model 'diffusion' is unconditional: it cannot be asked for a class")]
    public void Resolve_BadClass_IsOneLine(string json, string expected)
    {
        (GenerationJob? job, string? problem) = ResolveClass(json);
        Assert.Null(job);
        Assert.Equal(expected, problem);
    }

    [Fact]
    public void Resolve_LongUnknownClass_IsQuotedShort()
    {
        string name = new('x', 5000);
        (_, string? problem) = ResolveClass($$"""{"model": "conditional", "class": "{{name}}"}""");
        Assert.StartsWith($"unknown class '{new string('x', 40)}…' for model 'conditional'", problem);
    }
}
