namespace LatentDiffusion.Bench;

/// <summary>Resident set size of this process, from /proc/self/status (Linux); null elsewhere.</summary>
static class ProcessMemory
{
    /// <summary>Current RSS in MiB (VmRSS).</summary>
    public static double? RssMiB() => Read("VmRSS:");

    /// <summary>Peak RSS in MiB since the process started (VmHWM).</summary>
    public static double? PeakRssMiB() => Read("VmHWM:");

    static double? Read(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        foreach (string line in File.ReadLines(status))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            string[] parts = line[key.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);   // "\t123456 kB"
            return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        return null;
    }
}
