using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LatentDiffusion.IO;

namespace LatentDiffusion.Training;

/// <summary>One logged epoch: the mean of the epoch's batch losses, the loss and accuracy over the whole validation set.</summary>
public sealed record EpochLog(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("train_loss")] double TrainLoss,
    [property: JsonPropertyName("val_loss")] double ValLoss,
    [property: JsonPropertyName("val_accuracy")] double ValAccuracy,
    [property: JsonPropertyName("seconds")] double Seconds);

/// <summary>The logged epochs of a run, written as <c>history.csv</c> and <c>history.json</c>.</summary>
public static class TrainingHistory
{
    public const string CsvName = "history.csv";
    public const string JsonName = "history.json";

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static void Save(string directory, IReadOnlyList<EpochLog> history)
    {
        var csv = new StringBuilder("epoch,train_loss,val_loss,val_accuracy,seconds\n");
        foreach (EpochLog e in history)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.ValLoss:R},{e.ValAccuracy:R},{e.Seconds:F3}"));
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
    public static List<EpochLog> Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, JsonName);
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        return FromJson(File.ReadAllText(path), path);
    }
}
