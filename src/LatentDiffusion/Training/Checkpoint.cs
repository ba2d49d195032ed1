using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LatentDiffusion.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// Everything needed to continue a run exactly: model and optimizer state, the last finished epoch, the history,
/// the config and both random generators (the global one that drives weight init and Dropout, and the run's
/// own, which draws the per-epoch permutations and every random number of the loss). One file: magic, payload, SHA-256 of the payload, so damage is detected on load.
/// </summary>
public static class Checkpoint
{
    public const string FileName = "checkpoint.ckpt";
    static readonly byte[] Magic = "LDMCKPT1"u8.ToArray();

    /// <summary>
    /// What a checkpoint records besides the tensors. <paramref name="Architecture"/> and <paramref name="Settings"/>
    /// (the task's model settings as JSON) are null in part 1's checkpoints, which were all of the classifier.
    /// <paramref name="Epoch"/> is the last finished epoch; <paramref name="Partial"/>, when a stop interrupted the next
    /// one between batches, how far that one got (null in checkpoints written at the end of an epoch).
    /// </summary>
    public sealed record State(int Epoch, TrainingConfig Config, List<EpochLog> History, double TrainingSeconds,
        string? Architecture = null, string? Settings = null, PartialEpoch? Partial = null);

    public static void Save(string path, State state, nn.Module model, optim.Optimizer optimizer, Generator permutations, nn.Module? ema = null,
        IReadOnlyList<(double Decay, nn.Module Average)>? sweep = null)
    {
        var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(JsonSerializer.Serialize(state));
            model.save(writer);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
            WriteBytes(writer, torch.get_rng_state());
            WriteBytes(writer, permutations.get_state());
            ema?.save(writer);                               // after everything else, so part 1's checkpoints read unchanged
            if (sweep is { Count: > 0 })                     // an EMA sweep's averages last: checkpoints without one are unchanged
            {
                writer.Write(sweep.Count);
                foreach (var (decay, _) in sweep) writer.Write(decay);
                foreach (var (_, average) in sweep) average.save(writer);
            }
        }
        byte[] body = payload.ToArray();
        byte[] hash = SHA256.HashData(body);
        AtomicFile.Write(path, s =>
        {
            s.Write(Magic);
            s.Write(BitConverter.GetBytes((long)body.Length));
            s.Write(body);
            s.Write(hash);
        });
    }

    /// <summary>Reads only the non-tensor state (to decide how to resume).</summary>
    public static State ReadState(string path) => Read(path, (reader, state) => state);

    /// <summary>
    /// Restores model, optimizer and generators from <paramref name="path"/>; returns the recorded state. The checkpoint's
    /// EMA sweep (decays and averages) must be the one asked for in <paramref name="sweep"/> (none for none).
    /// </summary>
    public static State Load(string path, nn.Module model, optim.Optimizer optimizer, Generator permutations, nn.Module? ema = null,
        IReadOnlyList<(double Decay, nn.Module Average)>? sweep = null) =>
        Read(path, (reader, state) =>
        {
            model.load(reader, strict: true);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
            using (Tensor global = ReadBytes(reader)) torch.set_rng_state(global);
            using (Tensor perm = ReadBytes(reader)) permutations.set_state(perm);
            ema?.load(reader, strict: true);
            int count = reader.BaseStream.Position < reader.BaseStream.Length ? reader.ReadInt32() : 0;
            double[] saved = Enumerable.Range(0, count).Select(_ => reader.ReadDouble()).ToArray();
            var wanted = sweep ?? [];
            if (!saved.SequenceEqual(wanted.Select(w => w.Decay)))
                throw new DataFormatException(path,
                    $"checkpoint was made with EMA sweep [{Decays(saved)}]; this run asks for [{Decays(wanted.Select(w => w.Decay))}]. " +
                    "Use the same --ema-sweep to resume");
            foreach (var (_, average) in wanted) average.load(reader, strict: true);
            return state;
        });

    static string Decays(IEnumerable<double> decays) => string.Join(", ", decays.Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    static State Read(string path, Func<BinaryReader, State, State> rest)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "checkpoint not found");
        byte[] file = File.ReadAllBytes(path);
        int headerLength = Magic.Length + 8;
        if (file.Length < headerLength + 32 || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new DataFormatException(path, "not a LatentDiffusion checkpoint (bad magic or too short)");
        long bodyLength = BitConverter.ToInt64(file, Magic.Length);
        if (bodyLength < 0 || headerLength + bodyLength + 32 != file.Length)
            throw new DataFormatException(path, $"checkpoint length {file.Length} does not match its header (truncated?)");
        var body = file.AsSpan(headerLength, (int)bodyLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(file.AsSpan(headerLength + (int)bodyLength, 32)))
            throw new DataFormatException(path, "checkpoint checksum mismatch (file damaged)");
        try
        {
            using var reader = new BinaryReader(new MemoryStream(file, headerLength, (int)bodyLength, writable: false));
            State state = JsonSerializer.Deserialize<State>(reader.ReadString())
                ?? throw new DataFormatException(path, "checkpoint has no state");
            return rest(reader, state);
        }
        catch (Exception e) when (e is JsonException or EndOfStreamException or ArgumentException or InvalidOperationException)
        {
            throw new DataFormatException(path, $"checkpoint does not fit this model or version ({e.Message})", e);
        }
    }

    static void WriteBytes(BinaryWriter writer, Tensor t)
    {
        using (t)
        {
            byte[] bytes = t.bytes.ToArray();
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    static Tensor ReadBytes(BinaryReader reader)
    {
        int n = reader.ReadInt32();
        byte[] bytes = reader.ReadBytes(n);
        if (bytes.Length != n) throw new EndOfStreamException("generator state cut short");
        return tensor(bytes, ScalarType.Byte);
    }
}
