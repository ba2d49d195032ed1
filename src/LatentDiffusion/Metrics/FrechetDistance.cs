using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// The Fréchet distance between two Gaussians N(μ₁, Σ₁) and N(μ₂, Σ₂) (Dowson and Landau 1982; the FID of
/// Heusel et al. 2017, eq. 6):
/// <code>d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^½</code>
/// pytorch-fid takes <c>scipy.linalg.sqrtm(Σ₁Σ₂)</c>, a Schur decomposition in complex arithmetic, and drops the
/// imaginary part that rounding leaves. Here no complex number appears. Σ₁Σ₂ is similar to the symmetric positive
/// semi-definite Σ₁^½ Σ₂ Σ₁^½ = AAᵀ with A = Σ₁^½ Σ₂^½, so the eigenvalues of (Σ₁Σ₂)^½ are the singular values of
/// A and tr (Σ₁Σ₂)^½ = Σᵢ σᵢ(A), the nuclear norm. Each Σ^½ = V diag(√max(λ, 0)) Vᵀ comes from a symmetric
/// eigendecomposition (eigenvalues that rounding pushes below zero clipped at 0). Summing singular values of A
/// rather than square roots of eigenvalues of AAᵀ matters: a small eigenvalue λ of AAᵀ is only known to about
/// ε·λ_max, so √λ carries an error near √ε·√λ_max ≈ 1e-8·σ_max, while σᵢ(A) is accurate to ε·σ_max — which is what
/// gets FID(X, X) to 1e-14 instead of 1e-8. All of it in float64; singular (rank-deficient) covariances need no
/// ε·I fallback.
/// </summary>
public static class FrechetDistance
{
    /// <summary>The squared Fréchet distance between the two Gaussians summarised by <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static double Compute(FeatureStatistics a, FeatureStatistics b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Dim != b.Dim) throw new ArgumentException($"cannot compare {a.Dim}-d statistics with {b.Dim}-d statistics");
        using var scope = NewDisposeScope();
        Tensor mu1 = a.MuTensor(), mu2 = b.MuTensor();                 // (D,)
        Tensor sigma1 = Symmetrize(a.SigmaTensor());                   // (D, D)
        Tensor sigma2 = Symmetrize(b.SigmaTensor());                   // (D, D)

        double meanTerm = (mu1 - mu2).square().sum().item<double>();
        double traceTerm = sigma1.trace().item<double>() + sigma2.trace().item<double>();
        double crossTerm = TraceSqrtProduct(sigma1, sigma2);
        return meanTerm + traceTerm - 2 * crossTerm;
    }

    /// <summary>tr (Σ₁Σ₂)^½ = ‖Σ₁^½ Σ₂^½‖_* for symmetric positive semi-definite Σ₁, Σ₂, float64 (D, D).</summary>
    public static double TraceSqrtProduct(Tensor sigma1, Tensor sigma2)
    {
        using var scope = NewDisposeScope();
        Tensor product = SqrtPsd(sigma1).matmul(SqrtPsd(sigma2));      // A = Σ₁^½ Σ₂^½, (D, D)
        Tensor singular = linalg.svdvals(product);                      // (D,), σᵢ ≥ 0
        return singular.sum().item<double>();
    }

    /// <summary>The symmetric square root V diag(√max(λ, 0)) Vᵀ of a symmetric positive semi-definite matrix.</summary>
    public static Tensor SqrtPsd(Tensor sigma)
    {
        using var scope = NewDisposeScope();
        var (eigenvalues, eigenvectors) = linalg.eigh(sigma);          // (D,), (D, D) with columns vᵢ
        Tensor roots = eigenvalues.clamp_min(0).sqrt();                 // (D,)
        Tensor scaled = eigenvectors * roots.unsqueeze(0);              // column i scaled by √λᵢ
        return scaled.matmul(eigenvectors.t()).MoveToOuterDisposeScope();
    }

    /// <summary>(S + Sᵀ) / 2: removes the asymmetry that rounding leaves, which the symmetric solvers would ignore silently.</summary>
    static Tensor Symmetrize(Tensor s) => (s + s.t()).div_(2);
}
