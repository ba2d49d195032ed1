using System.Diagnostics;
using LatentDiffusion.Export.Distributed;
using LatentDiffusion.Tests.Interop;

namespace LatentDiffusion.Tests.Export.Distributed;

/// <summary>
/// Runs a bundle's python/ldm_train_ddp.py under <c>python3 -m torch.distributed.run --standalone</c> with gloo, one
/// thread a process. torch 1.13 under Python 3.11 cannot parse torchrun's default "--redirects 0 --tee 0" (its
/// enum lookup misses the zero flag), so stdout is teed explicitly. Skips with <see cref="PythonTwin.SkipUnlessTorch"/>.
/// </summary>
internal static class Torchrun
{
    public sealed record Result(int ExitCode, string Output);

    public static Result Run(string bundle, int processes, params string[] extra)
    {
        var info = new ProcessStartInfo(PythonTwin.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-m", "torch.distributed.run", "--standalone", "--redirects", "1", "--tee", "1", $"--nproc_per_node={processes}",
                     Path.Combine(bundle, BundlePreparation.Scripts[0]), bundle })
            info.ArgumentList.Add(a);
        foreach (string a in extra) info.ArgumentList.Add(a);
        info.Environment["OMP_NUM_THREADS"] = "1";
        using Process p = Process.Start(info) ?? throw new InvalidOperationException("could not start " + PythonTwin.Python);
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("torchrun did not finish in 300 s");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result + stderr.Result);
    }
}
