namespace LatentDiffusion.Metrics;

/// <summary>
/// A generated set's full memorisation check (<see cref="Memorisation.Compute"/>: every digit's nearest training
/// image in feature and in pixel space, the closest pairs) with the two feature sets it was computed from, which the
/// closest-pairs figure (<see cref="Reports.MemorisationFigure"/>) draws from.
/// </summary>
public sealed record ClosestPairs(string Row, MemorisationResult Result, ImageFeatures Generated, ImageFeatures Training);
