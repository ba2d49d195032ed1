using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LatentDiffusion.Sampling;

namespace LatentDiffusion.Server;

/// <summary>
/// The body of <c>POST /api/generate</c>, every field optional: <c>{"model": "conditional", "sampler": "iadb",
/// "steps": 50, "count": 16, "seed": 1, "class": "7", "guidance": 2, "eta": 0, "heun": false}</c> (<c>"digit": 3</c>,
/// MNIST's name for a class index, as before <c>class</c>). <see cref="Resolve"/>
/// fills the defaults and checks it against the catalog and the server's limits; what cannot work is one line.
/// </summary>
public sealed record GenerationRequest
{
    /// <summary>Model id (its file name without .safetensors). Default: the first usable model listed.</summary>
    public string? Model { get; init; }

    /// <summary>A sampler's name (<see cref="Samplers.All"/>). Default: the model's interactive one (<see cref="Samplers.Interactive"/>).</summary>
    public string? Sampler { get; init; }

    /// <summary>Sampling steps. Default: the sampler's (<see cref="ISampler.DefaultSteps"/>).</summary>
    public int? Steps { get; init; }

    /// <summary>How many digits. Default: <see cref="ServerOptions.DefaultCount"/>.</summary>
    public int? Count { get; init; }

    /// <summary>The seed of every draw. Default: a random one (the response says which).</summary>
    public long? Seed { get; init; }

    /// <summary>Class-conditional models: the digit to generate (0-9); absent or null: a random digit per sample. A class index for any dataset; not with <see cref="Class"/>.</summary>
    public int? Digit { get; init; }

    /// <summary>
    /// Class-conditional models: the class to generate, its index (a JSON number) or its name (a string, any case: "7",
    /// "sneaker"); absent or null: a random class per sample. Not with <see cref="Digit"/>.
    /// </summary>
    public JsonElement? Class { get; init; }

    /// <summary>Class-conditional models: the classifier-free guidance weight. Default: <see cref="ServerOptions.GuidanceFor"/>, the weight the model records, else the server's.</summary>
    public double? Guidance { get; init; }

    /// <summary>DDIM's η. Default 0.</summary>
    public double? Eta { get; init; }

    /// <summary>Deprecated: true is the same as sampler <c>heun</c> (α-deblending with Heun steps). Default false.</summary>
    public bool? Heun { get; init; }

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>The request in <paramref name="body"/> (empty: all defaults), or a one-line reason it is not one.</summary>
    public static (GenerationRequest? Request, string? Problem) Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || body.Trim(" \t\r\n"u8).IsEmpty) return (new GenerationRequest(), null);
        if (!System.Text.Unicode.Utf8.IsValid(body)) return (null, $"malformed JSON: the body is not valid UTF-8 (from byte {FirstInvalidUtf8(body) + 1})");
        try
        {
            GenerationRequest? request = JsonSerializer.Deserialize<GenerationRequest>(body, Json);
            return request is null ? (null, "the body must be a JSON object, not null") : (request, null);
        }
        catch (JsonException e)
        {
            string field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "";
            string why = e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? $"unknown field '{field}' ({Fields})"
                : e.Message.Contains("could not be converted", StringComparison.Ordinal) && field.Length > 0 ? $"'{field}' has the wrong type"
                : e.Message.Contains("could not be converted", StringComparison.Ordinal) ? "the body must be a JSON object"
                : $"not JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})";
            return (null, $"malformed JSON: {why}");
        }
    }

    /// <summary>The offset of the first byte that does not start or continue a valid UTF-8 sequence.</summary>
    static int FirstInvalidUtf8(ReadOnlySpan<byte> body)
    {
        System.Buffers.OperationStatus status = System.Text.Unicode.Utf8.ToUtf16(body, new char[body.Length], out int read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? body.Length : read;
    }

    const string Fields = "fields: model, sampler, steps, count, seed, class, digit, guidance, eta, heun";

    /// <summary>Longest piece of a request quoted back in an error.</summary>
    const int MaxQuoted = 40;

    /// <summary>
    /// The generation this asks for with the defaults filled in, or why it cannot run: an unknown or unusable model, a
    /// count or step number past the limits, a digit or class for an unconditional model, out of range or of another
    /// name, both a digit and a class, a sampler that does not fit the model.
    /// </summary>
    public (GenerationJob? Job, string? Problem) Resolve(IReadOnlyList<ModelEntry> models, ServerOptions limits)
    {
        ModelEntry? entry = Model is null ? models.FirstOrDefault(m => m.Problem is null) : models.FirstOrDefault(m => m.Id == Model);
        string available = models.Count == 0 ? "none" : string.Join(", ", models.Select(m => m.Id));
        if (entry is null)
            return (null, Model is null ? $"no usable diffusion model in the models folder (models: {available})" : $"unknown model '{Model}' (models: {available})");
        if (entry.Problem is { } broken || entry.Config is null) return (null, $"model '{entry.Id}' cannot be used: {entry.Problem}");
        var config = entry.Config;

        int count = Count ?? limits.DefaultCount;
        if (count < 1 || count > limits.MaxCount) return (null, $"count must be between 1 and {limits.MaxCount} (got {count})");

        ISampler? named = Sampler is null ? null : Samplers.Find(Sampler);
        if (Sampler is not null && named is null) return (null, $"unknown sampler '{Sampler}' ({Samplers.Names})");
        if (Heun == true && (named = Samplers.WithHeun(named)) is null) return (null, $"heun applies to α-deblending only; use the sampler '{Samplers.AlphaHeun.Name}' with an α-model");
        ISampler sampler = named ?? entry.Samplers[0];
        int steps = Steps ?? sampler.DefaultSteps(config);
        if (steps < 1 || steps > limits.MaxSteps) return (null, $"steps must be between 1 and {limits.MaxSteps} (got {steps})");

        bool hasClass = Class is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) };
        if (hasClass && Digit is not null) return (null, "give class or digit, not both (class: an index or a name; digit: an index, MNIST's name for it)");
        if (!entry.Conditional && Digit is not null) return (null, $"model '{entry.Id}' is unconditional: it cannot be asked for a digit");
        if (!entry.Conditional && hasClass) return (null, $"model '{entry.Id}' is unconditional: it cannot be asked for a class");
        if (!entry.Conditional && Guidance is not null) return (null, $"guidance applies to class-conditional models; '{entry.Id}' is unconditional");
        int classes = config.UNet.Classes;
        if (Digit is int d && (d < 0 || d >= classes)) return (null, $"digit must be 0-{classes - 1}, or absent for a random digit (got {d})");
        int? asked = Digit;
        if (hasClass)
        {
            (asked, string? classProblem) = ClassIndex(Class!.Value, entry);
            if (classProblem is not null) return (null, classProblem);
        }

        long seed = Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        int[]? labels = null;
        if (entry.Conditional)
        {
            var draw = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
            labels = Enumerable.Range(0, count).Select(_ => asked ?? draw.Next(classes)).ToArray();
        }
        var options = new SamplingOptions
        {
            Sampler = sampler,
            Steps = steps,
            Eta = Eta ?? 0,
            Labels = labels,
            Guidance = entry.Conditional ? Guidance ?? limits.GuidanceFor(config) : 1,
            GuidanceInterval = entry.Conditional ? limits.GuidanceInterval : null,
            BatchSize = count,
        };
        if (options.Problem(config) is { } problem) return (null, $"model '{entry.Id}': {problem}");
        return (new GenerationJob(entry, count, seed, asked, options), null);
    }

    /// <summary>The class <paramref name="value"/> names for <paramref name="entry"/>: an index in range, or a name (exact, else ignoring case).</summary>
    static (int? Index, string? Problem) ClassIndex(JsonElement value, ModelEntry entry)
    {
        IReadOnlyList<string> names = entry.ClassNames;
        string rule = $"class must be an index 0-{names.Count - 1} or a class name, or absent for a random class";
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                if (!value.TryGetInt32(out int index)) return (null, $"{rule} (got {Quote(value.GetRawText())})");
                return index >= 0 && index < names.Count ? (index, null) : (null, $"{rule} (got {index})");
            case JsonValueKind.String:
                string name = value.GetString()!;
                int found = IndexOf(names, name, StringComparison.Ordinal);
                if (found < 0) found = IndexOf(names, name, StringComparison.OrdinalIgnoreCase);
                return found >= 0 ? (found, null) : (null, $"unknown class '{Quote(name)}' for model '{entry.Id}' (classes: {string.Join(", ", names)})");
            default:
                return (null, $"{rule} (got a JSON {value.ValueKind.ToString().ToLowerInvariant()})");
        }
    }

    static int IndexOf(IReadOnlyList<string> names, string name, StringComparison comparison)
    {
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, comparison)) return i;
        return -1;
    }

    /// <summary>At most <see cref="MaxQuoted"/> characters of what the request said.</summary>
    static string Quote(string text) => text.Length <= MaxQuoted ? text : text[..MaxQuoted] + "…";
}

/// <summary>A checked request, ready to run: the model, how many images, the seed, the class asked for (its index; null: random or unconditional) and the sampler's options.</summary>
public sealed record GenerationJob(ModelEntry Model, int Count, long Seed, int? Class, SamplingOptions Options)
{
    /// <summary>e.g. "diffusion: 16 digits, DDIM 50 steps, η = 0, seed 3" or "fashion-mnist/conditional: 4 images of sneaker, …" (for logs).</summary>
    public string Describe() =>
        $"{Model.Id}: {Count} {(Model.DatasetName == Data.KnownDatasets.Mnist.Name ? "digits" : "images")}{(Class is int c ? $" of {Model.ClassName(c)}" : "")}, {Options.Describe(Model.Config!)}" +
        (Options.Labels is null ? "" : $", guidance {Options.Guidance.ToString(CultureInfo.InvariantCulture)}") + $", seed {Seed}";
}
