namespace LatentDiffusion.Reports;

/// <summary>
/// The numbers Nick Tasios' "Latent Diffusion Series: MNIST Classifier" (part 1) reports, shown beside ours.
/// </summary>
public static class BlogPart1
{
    /// <summary>Test accuracy of the blog's trained classifier: 99.1 %.</summary>
    public const double TestAccuracy = 0.991;

    /// <summary>MNIST-FID of uniform random images against the test set.</summary>
    public const double FidRandom = 48.43;

    /// <summary>MNIST-FID of the validation split against the test set.</summary>
    public const double FidValidation = 0.30;

    /// <summary>Parameters of the published architecture (the same as <see cref="Models.Classifier.ExpectedParameterCount"/>).</summary>
    public const long ParameterCount = Models.Classifier.ExpectedParameterCount;
}
