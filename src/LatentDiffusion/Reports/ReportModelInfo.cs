namespace LatentDiffusion.Reports;

/// <summary>What the report says about the weights it describes.</summary>
/// <param name="Path">The weights file as given (the page shows it through <see cref="ReportPaths"/>).</param>
/// <param name="Sha256">SHA-256 of the file, lower-case hex.</param>
/// <param name="TrainingSeconds">Wall-clock training time, when known (the history's last entry).</param>
public sealed record ReportModelInfo(string Path, string Sha256, long ParameterCount, double? TrainingSeconds);
