namespace LatentDiffusion;

/// <summary>
/// The numbers Nick Tasios' "Latent Diffusion Series: MNIST Classifier" (part 1) reports, shown beside ours.
/// </summary>
public static class BlogPart1
{
    /// <summary>Test accuracy of the blog's trained classifier: 99.1 %.</summary>
    public const double TestAccuracy = 0.991;

    /// <summary>MNIST-FID of Gaussian noise with the training set's per-pixel mean and std against the test set ("Random").</summary>
    public const double FidRandom = 48.43;

    /// <summary>MNIST-FID of the test set against the training set ("Validation"); ratio to Random 0.30 / 48.43 = 0.0062.</summary>
    public const double FidValidation = 0.30;

    /// <summary>Parameters of the published architecture (the same as <see cref="Models.Classifier.ExpectedParameterCount"/>).</summary>
    public const long ParameterCount = Models.Classifier.ExpectedParameterCount;
}
