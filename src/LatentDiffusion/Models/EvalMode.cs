using TorchSharp;

namespace LatentDiffusion.Models;

/// <summary>
/// A module in eval mode for the length of a <c>using</c> block, its own mode (train or eval) restored after: the
/// frame of every inference pass over a model a caller may be training.
/// </summary>
public readonly struct EvalMode : IDisposable
{
    readonly torch.nn.Module module;
    readonly bool wasTraining;

    EvalMode(torch.nn.Module module)
    {
        this.module = module;
        wasTraining = module.training;
        module.eval();
    }

    public static EvalMode Of(torch.nn.Module module) => new(module);

    public void Dispose() => module.train(wasTraining);
}
