namespace LatentDiffusion.Reports;

/// <summary>One MNIST-FID baseline of the report's table.</summary>
/// <param name="Name">What was compared with the test set, e.g. "Random" or "Validation".</param>
/// <param name="Fid">Our FID.</param>
/// <param name="RatioToRandom">Fid divided by the FID of random images (1 for the random row itself).</param>
/// <param name="BlogFid">The blog's value for the same baseline, when it gives one (see <see cref="BlogPart1"/>).</param>
public sealed record ReportFidRow(string Name, double Fid, double RatioToRandom, double? BlogFid);

/// <summary>What the report says about the weights it describes.</summary>
/// <param name="Path">The weights file as given.</param>
/// <param name="Sha256">SHA-256 of the file, lower-case hex.</param>
/// <param name="TrainingSeconds">Wall-clock training time, when known (the history's last entry).</param>
public sealed record ReportModelInfo(string Path, string Sha256, long ParameterCount, double? TrainingSeconds);
