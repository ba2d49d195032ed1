using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LatentDiffusion.IO;

namespace LatentDiffusion.Training;

/// <summary>
/// One logged epoch: the mean of the epoch's batch losses, the validation loss, the model's other metrics (in the
/// order it reports them: the classifier's <c>val_accuracy</c>; the VAE's reconstruction and KL parts) and the
/// training seconds so far. JSON: <c>{"epoch", "train_loss", "val_loss", …metrics, "seconds"}</c>, so part 1's
/// histories read and write unchanged.
/// </summary>
[JsonConverter(typeof(EpochLogConverter))]
public sealed record EpochLog(int Epoch, double TrainLoss, double ValLoss, double Seconds, IReadOnlyList<KeyValuePair<string, double>> Metrics)
{
    /// <summary>A metric by name, or NaN when this log lacks it.</summary>
    public double Metric(string name)
    {
        foreach (var (key, value) in Metrics) if (key == name) return value;
        return double.NaN;
    }

    /// <summary>The classifier's validation accuracy (NaN for other models).</summary>
    public double ValAccuracy => Metric("val_accuracy");

    /// <summary>A classifier epoch, as part 1 logs it.</summary>
    public static EpochLog Classifier(int epoch, double trainLoss, double valLoss, double valAccuracy, double seconds) =>
        new(epoch, trainLoss, valLoss, seconds, [new("val_accuracy", valAccuracy)]);

    public bool Equals(EpochLog? other) =>
        other is not null && Epoch == other.Epoch && TrainLoss.Equals(other.TrainLoss) && ValLoss.Equals(other.ValLoss) &&
        Seconds.Equals(other.Seconds) && Metrics.SequenceEqual(other.Metrics);

    public override int GetHashCode() => HashCode.Combine(Epoch, TrainLoss, ValLoss, Seconds, Metrics.Count);
}

/// <summary>Writes <see cref="EpochLog"/> flat, metrics between val_loss and seconds; reads any extra number as a metric.</summary>
sealed class EpochLogConverter : JsonConverter<EpochLog>
{
    public override EpochLog Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("an epoch log must be an object");
        int? epoch = null;
        double trainLoss = double.NaN, valLoss = double.NaN, seconds = double.NaN;
        var metrics = new List<KeyValuePair<string, double>>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName) throw new JsonException("expected a property name");
            string name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number) throw new JsonException($"'{name}' must be a number");
            switch (name)
            {
                case "epoch": epoch = reader.GetInt32(); break;
                case "train_loss": trainLoss = reader.GetDouble(); break;
                case "val_loss": valLoss = reader.GetDouble(); break;
                case "seconds": seconds = reader.GetDouble(); break;
                default: metrics.Add(new(name, reader.GetDouble())); break;
            }
        }
        if (epoch is null) throw new JsonException("an epoch log needs 'epoch'");
        return new EpochLog(epoch.Value, trainLoss, valLoss, seconds, metrics);
    }

    public override void Write(Utf8JsonWriter writer, EpochLog value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("epoch", value.Epoch);
        writer.WriteNumber("train_loss", value.TrainLoss);
        writer.WriteNumber("val_loss", value.ValLoss);
        foreach (var (key, metric) in value.Metrics) writer.WriteNumber(key, metric);
        writer.WriteNumber("seconds", value.Seconds);
        writer.WriteEndObject();
    }
}

/// <summary>The logged epochs of a run, written as <c>history.csv</c> and <c>history.json</c>.</summary>
public static class TrainingHistory
{
    public const string CsvName = "history.csv";
    public const string JsonName = "history.json";

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static void Save(string directory, IReadOnlyList<EpochLog> history)
    {
        string[] metricNames = history.SelectMany(e => e.Metrics.Select(m => m.Key)).Distinct().ToArray();
        var csv = new StringBuilder("epoch,train_loss,val_loss," + string.Concat(metricNames.Select(n => n + ",")) + "seconds\n");
        foreach (EpochLog e in history)
        {
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.ValLoss:R},"));
            foreach (string name in metricNames) csv.Append(string.Create(CultureInfo.InvariantCulture, $"{e.Metric(name):R},"));
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{e.Seconds:F3}"));
        }
        AtomicFile.WriteAllText(Path.Combine(directory, CsvName), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(directory, JsonName), ToJson(history));
    }

    public static string ToJson(IReadOnlyList<EpochLog> history) => JsonSerializer.Serialize(history, Options);

    public static List<EpochLog> FromJson(string json, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<List<EpochLog>>(json) ?? throw new DataFormatException(path, "history is empty");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not a training history ({e.Message})", e);
        }
    }

    /// <summary>Reads <c>history.json</c> (or a path to it).</summary>
    /// <summary>The history beside a model file: NAME.history.json (shipped models) or the run directory's history.json; null when neither exists.</summary>
    public static IReadOnlyList<EpochLog>? Beside(string modelPath)
    {
        string dir = Path.GetDirectoryName(modelPath) ?? ".";
        string name = Path.GetFileNameWithoutExtension(modelPath);
        foreach (string candidate in new[] { Path.Combine(dir, name + ".history.json"), Path.Combine(dir, JsonName) })
            if (File.Exists(candidate)) return Load(candidate);
        return null;
    }

    public static List<EpochLog> Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, JsonName);
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        return FromJson(File.ReadAllText(path), path);
    }
}
