using System.Diagnostics;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Export.Onnx;
using LatentDiffusion.IO;
using LatentDiffusion.Onnx;
using LatentDiffusion.Sampling;
using LatentDiffusion.Tests.Onnx;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Export.Onnx;

/// <summary>
/// <c>ldm export --onnx</c>'s files: the ONNX checker accepts each (Debian's python3-onnx; skipped visibly without it),
/// they carry what sampling needs as the library defines it, and bad input is one line naming the file.
/// </summary>
[Collection("Torch")]
public sealed class OnnxExportTests(ExportedModels exported) : IClassFixture<ExportedModels>
{
    static string Python => Environment.GetEnvironmentVariable("PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    static readonly Lazy<string?> NoOnnx = new(() =>
    {
        var (code, _, stderr) = RunPython(["-c", "import onnx"]);
        return code == 0 ? null : $"{Python} cannot import onnx ({stderr.Trim().Split('\n')[^1]}); apt-get install python3-onnx";
    });

    [SkippableFact]
    public void Export_ShippedModels_EveryFilePassesTheOnnxCheckerWithShapeInference()
    {
        Skip.If(NoOnnx.Value is not null, NoOnnx.Value);
        Assert.Equal(8, exported.Files.Count);                                     // 5 UNets (the student too), decoder, encoder, classifier
        const string script = """
            import sys, onnx
            for path in sys.argv[1:]:
                model = onnx.load(path)
                onnx.checker.check_model(model, full_check=True)
                assert model.opset_import[0].domain == '' and model.opset_import[0].version >= 17, path
                inputs = model.graph.input
                assert all(i.type.tensor_type.shape.dim[0].dim_param == 'batch' for i in inputs), path
                print('ok', path)
            """;
        var (code, stdout, stderr) = RunPython(["-c", script, .. exported.Files.Select(f => f.Path)]);
        Assert.True(code == 0, $"the ONNX checker refused a file:\n{stderr}");
        Assert.Equal(exported.Files.Count, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Export_Conditional_MetadataCarriesTheLibrarysSamplersScheduleAndGuidance()
    {
        (_, DiffusionConfig config) = Load(ShippedFiles.ConditionalFile);
        using OnnxNetwork net = OnnxNetwork.Open(exported.File("conditional.onnx"), ModelInfo.UNetKind);
        ModelInfo info = net.Info;
        using NoiseSchedule schedule = config.CreateSchedule();

        Assert.Equal("alpha-deblending", info.Objective);
        Assert.Equal(config.LatentScale, info.LatentScale);
        Assert.Equal(config.AlphaScale, info.AlphaScale);
        Assert.Equal(schedule.Values, info.AlphasCumprod);
        Assert.Equal(10, info.Classes);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], info.ClassNames);
        Assert.Equal(Samplers.Interactive(config).Name, info.DefaultSampler);
        Assert.Equal(Samplers.For(config).Select(s => (s.Name, s.DefaultSteps(config), s.MaxSteps(config))), info.Samplers.Select(s => (s.Name, s.DefaultSteps, s.MaxSteps)));
        Assert.Equal(Recipes.Guidance, info.Guidance);
        Assert.Equal([Recipes.GuidanceInterval.Low, Recipes.GuidanceInterval.High], info.GuidanceInterval!);
        Assert.Equal(["x", "t", "labels"], net.InputNames);
    }

    [Fact]
    public void Export_EpsilonModel_RecordsDdimAndTheSchedule()
    {
        (_, DiffusionConfig config) = Load(ShippedFiles.DiffusionFile);
        using OnnxNetwork net = OnnxNetwork.Open(exported.File("diffusion.onnx"), ModelInfo.UNetKind);
        Assert.Equal("epsilon", net.Info.Objective);
        Assert.Equal("ddim", net.Info.DefaultSampler);
        Assert.Equal(config.Steps, net.Info.Timesteps);
        Assert.Null(net.Info.Guidance);
        Assert.Equal(["x", "t"], net.InputNames);
    }

    [Fact]
    public void Export_FileWithoutArchitecture_IsOneLineNamingIt()
    {
        using var dir = new TempDirectory();
        string pt = dir.File("classifier.pt");
        using (var model = new LatentDiffusion.Models.Classifier()) ModelWeights.Save(model, pt);
        var e = Assert.Throws<DataFormatException>(() => OnnxExport.Export([pt], dir.File("out")));
        Assert.StartsWith(pt + ": records no architecture", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(dir.File("out")));                          // nothing written
    }

    [Fact]
    public void Export_NotAModelFile_IsOneLineNamingIt()
    {
        using var dir = new TempDirectory();
        string junk = dir.File("junk.safetensors");
        File.WriteAllText(junk, "not a weights file");
        var e = Assert.ThrowsAny<Exception>(() => OnnxExport.Export([junk], dir.File("out")));
        Assert.IsType<DataFormatException>(e);
        Assert.Contains(junk, e.Message);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void Export_TwoFilesOfTheSameName_IsRefusedBeforeWriting()
    {
        using var dir = new TempDirectory();
        string other = Path.Combine(dir.Path, "b", "classifier.safetensors");
        Directory.CreateDirectory(Path.GetDirectoryName(other)!);
        File.Copy(ExportedModels.Shipped("classifier.safetensors"), other);
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.Export([ExportedModels.Shipped("classifier.safetensors"), other], dir.File("out")));
        Assert.Contains("share a name", e.Message);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void Export_Manifest_ListsEveryFileWithItsKind()
    {
        string manifest = File.ReadAllText(exported.File(OnnxExport.ManifestFile));
        foreach (var f in exported.Files)
        {
            Assert.Contains($"\"{Path.GetFileName(f.Path)}\"", manifest);
            Assert.Contains($"\"{f.Kind}\"", manifest);
        }
    }

    static (object?, DiffusionConfig) Load(string file)
    {
        (LatentDiffusion.Models.UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(ExportedModels.Shipped(file));
        unet.Dispose();
        return (null, config);
    }

    static (int Code, string Stdout, string Stderr) RunPython(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(start)!;
            Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(120_000)) { p.Kill(); return (-1, "", "timed out"); }
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", $"no {Python} ({e.Message})");
        }
    }
}
