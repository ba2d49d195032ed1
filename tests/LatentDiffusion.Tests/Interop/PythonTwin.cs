using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using LatentDiffusion.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Interop;

/// <summary>
/// Runs one of our modules' PyTorch twins (python/ldm_modules.py) on weights we export: saves the module to a .pt,
/// loads it into the twin with a strict <c>load_state_dict</c>, evaluates an expression of <c>model</c> and <c>x</c>
/// in eval mode under no_grad, and returns the result. Needs a python3 that imports torch (Debian: apt-get install
/// python3-torch); <c>/usr/bin/python3</c> unless <c>PYTHON</c> names another. Where there is none, tests call
/// <see cref="SkipUnlessTorch"/> and are reported as skipped.
/// </summary>
internal static class PythonTwin
{
    public sealed record Output(long[] Shape, float[] Values);

    internal static string Python => Environment.GetEnvironmentVariable("PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            var (code, _, stderr) = RunPython(["-c", "import torch"], timeoutSeconds: 120);
            return code == 0 ? null : $"{Python} cannot import torch ({LastLine(stderr)}); apt-get install python3-torch";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"no {Python}; apt-get install python3-torch";
        }
    });

    public static void SkipUnlessTorch() => Skip.If(Unavailable.Value is not null, Unavailable.Value);

    // argv: ldm_modules' folder, twin constructor, weights .pt, input .f32, input shape (JSON), output expression.
    const string Script = """
        import json, sys
        import torch
        sys.path.insert(0, sys.argv[1])
        import ldm_modules
        model = eval(sys.argv[2], vars(ldm_modules))
        model.load_state_dict(torch.load(sys.argv[3]), strict=True)
        model.eval()
        with open(sys.argv[4], 'rb') as f:
            x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(json.loads(sys.argv[5]))
        with torch.no_grad():
            y = eval(sys.argv[6], {'torch': torch, 'model': model, 'x': x})
        print(json.dumps({'shape': list(y.shape), 'values': y.flatten().tolist()}))
        """;

    /// <summary>
    /// <paramref name="output"/> of the twin built by <paramref name="twin"/> (e.g. <c>"Classifier()"</c>) holding
    /// <paramref name="module"/>'s weights, on <paramref name="input"/> (float32). Fails the test, with python's
    /// stderr, when the strict load or the evaluation fails.
    /// </summary>
    public static Output Run(nn.Module module, string twin, Tensor input, string output = "model(x)")
    {
        string modules = RepositoryPaths.Find("python/ldm_modules.py") ?? throw new FileNotFoundException("python/ldm_modules.py not found above " + AppContext.BaseDirectory);
        using var dir = new TempDirectory();
        string weights = dir.File("weights.pt"), inputFile = dir.File("input.f32");
        ModelWeights.Save(module, weights);
        File.WriteAllBytes(inputFile, MemoryMarshal.AsBytes(input.contiguous().data<float>().ToArray().AsSpan()).ToArray());
        string shape = JsonSerializer.Serialize(input.shape);

        var (code, stdout, stderr) = RunPython(["-c", Script, Path.GetDirectoryName(modules)!, twin, weights, inputFile, shape, output]);
        Assert.True(code == 0, $"{twin} in PyTorch failed (exit {code}):\n{stderr}");
        using var json = JsonDocument.Parse(stdout);
        return new Output(
            json.RootElement.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            json.RootElement.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray());
    }

    /// <summary>Same shape, and every value within <paramref name="tolerance"/> (absolute).</summary>
    public static void AssertClose(Tensor ours, Output theirs, double tolerance)
    {
        Assert.Equal(ours.shape, theirs.Shape);
        float[] values = ours.contiguous().data<float>().ToArray();
        double worst = values.Zip(theirs.Values, (o, t) => Math.Abs(o - t)).Max();
        Assert.True(worst <= tolerance, $"max |ours - PyTorch| {worst:E3} > {tolerance:E0}");
    }

    internal static (int Code, string Stdout, string Stderr) RunPython(IEnumerable<string> args, int timeoutSeconds = 300)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        using Process p = Process.Start(info) ?? throw new InvalidOperationException("could not start " + Python);
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} did not finish in {timeoutSeconds} s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    internal static string LastLine(string text) => text.Trim().Split('\n')[^1];
}
