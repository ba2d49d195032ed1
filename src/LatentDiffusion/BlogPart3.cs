namespace LatentDiffusion;

/// <summary>The numbers part 3 of the series ("Latent Diffusion Model") and its follow-up report, shown beside ours.</summary>
public static class BlogPart3
{
    /// <summary>FID of the latent diffusion model's samples (the post's table).</summary>
    public const double FidDiffusion = 6.02;

    /// <summary>The follow-up's iterative α-(de)blending: "about 3".</summary>
    public const double FidAlphaDeblending = 3.0;
}
