using System.Security.Cryptography;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace LatentDiffusion.IO;

/// <summary>
/// Saves and loads a module's state_dict as safetensors (default) or as a PyTorch <c>.pt</c> file (torch.save of a
/// state_dict, through TorchSharp.PyBridge), chosen by extension. Loading is strict: every key and shape must
/// match the module, and a mismatch names the tensors.
/// </summary>
public static class ModelWeights
{
    public static bool IsPyTorchFile(string path) =>
        path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) ||
        path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase);

    public static void Save(nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (IsPyTorchFile(path))
            AtomicFile.Write(path, stream => module.save_py(stream, leaveOpen: true));
        else if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            Safetensors.Save(path, module.state_dict(), metadata);
        else
            throw new ArgumentException($"{path}: unknown weights format; use .safetensors or .pt");
    }

    /// <summary>Reads a weights file into a name → tensor dictionary (CPU), without touching any module.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        if (!IsPyTorchFile(path)) return Safetensors.Load(path).Tensors;
        try
        {
            using var stream = File.OpenRead(path);
            var table = PyTorchUnpickler.UnpickleStateDict(stream);
            var result = new Dictionary<string, Tensor>();
            foreach (var key in table.Keys)
            {
                if (table[key] is not Tensor t)
                    throw new DataFormatException(path, $"entry '{key}' is not a tensor; expected a state_dict saved with torch.save(model.state_dict())");
                result[(string)key] = t;
            }
            return result;
        }
        catch (DataFormatException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DataFormatException(path, $"not a readable PyTorch state_dict ({e.GetType().Name}: {e.Message})", e);
        }
    }

    /// <summary>Loads <paramref name="path"/> into <paramref name="module"/>, requiring the same names and shapes.</summary>
    public static void Load(nn.Module module, string path)
    {
        Dictionary<string, Tensor> loaded = Read(path);
        try
        {
            CheckCompatible(module, loaded, path);
            using (no_grad())
            {
                foreach (var (name, target) in module.state_dict())
                    target.copy_(loaded[name]);
            }
        }
        finally
        {
            foreach (Tensor t in loaded.Values) t.Dispose();
        }
    }

    /// <summary>Throws a <see cref="DataFormatException"/> listing every missing, unexpected or mis-shaped tensor.</summary>
    public static void CheckCompatible(nn.Module module, IReadOnlyDictionary<string, Tensor> loaded, string path)
    {
        var expected = module.state_dict();
        var problems = new List<string>();
        foreach (var (name, t) in expected)
        {
            if (!loaded.TryGetValue(name, out Tensor? got)) problems.Add($"missing {name} [{Shape(t)}]");
            else if (!got.shape.SequenceEqual(t.shape)) problems.Add($"{name}: file has [{Shape(got)}], model needs [{Shape(t)}]");
            else if (got.dtype != t.dtype) problems.Add($"{name}: file has {got.dtype}, model needs {t.dtype}");
        }
        foreach (var (name, t) in loaded)
            if (!expected.ContainsKey(name)) problems.Add($"unexpected {name} [{Shape(t)}]");
        if (problems.Count > 0)
            throw new DataFormatException(path, $"weights do not fit the {module.GetName()} architecture: {string.Join("; ", problems)}");
    }

    /// <summary>SHA-256 of a file, lower-case hex; FID results cite its first 12 characters.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    static string Shape(Tensor t) => string.Join(", ", t.shape);
}
