using static TorchSharp.torch;

namespace LatentDiffusion.Export.Onnx;

/// <summary>
/// One kind of model file as ONNX: the architecture it reads (as recorded in the weights' metadata, e.g. <c>UNet</c>)
/// and the graphs it writes for it (the VAE gives two: decoder and encoder). The kinds are listed once, in
/// <see cref="OnnxExport.Kinds"/>; a new one is a file here and a line there.
/// </summary>
public interface IOnnxModelExport
{
    /// <summary>The architecture recorded in the model file (<see cref="IO.ModelFile.ReadHeader"/>).</summary>
    string Architecture { get; }

    /// <summary>The graphs of the model in <paramref name="path"/>, each with the suffix of its file name (e.g. <c>.decoder</c>, or empty).</summary>
    IReadOnlyList<(string Suffix, OnnxGraph Graph)> Build(string path);
}

/// <summary>Small helpers the exporters share.</summary>
internal static class OnnxModules
{
    /// <summary>The submodule registered as <paramref name="name"/> (a private field of ours, or a list index).</summary>
    public static T Child<T>(nn.Module module, string name) where T : nn.Module =>
        module.named_children().FirstOrDefault(c => c.name == name).module as T
        ?? throw new ArgumentException($"{module.GetName()} has no {typeof(T).Name} called {name}");

    /// <summary>The submodules in registration order.</summary>
    public static IEnumerable<(string Name, nn.Module Module)> Children(nn.Module module) =>
        module.named_children().Select(c => (c.name, c.module));
}
