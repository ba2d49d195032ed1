namespace LatentDiffusion.Training;

/// <summary>Another writer holds the run directory's <see cref="RunLock"/>: one line naming the directory and the holder.</summary>
public sealed class RunLockedException(string directory, RunLock.Owner? holder, string reason)
    : IOException($"{directory} is in use by another training ({(holder is null ? $"its PID is not recorded: {reason}" : holder.ToString())}); " +
                  "wait for it to finish, stop it, or give another --out")
{
    /// <summary>The locked run directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>The holder as its owner file records it, or null when that is unknown.</summary>
    public RunLock.Owner? Holder { get; } = holder;
}
