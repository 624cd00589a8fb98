using AlexNet.Model.Data;
using AlexNet.Model.Packaging;

namespace AlexNet.Model.Training;

/// <summary>
/// The training set's colour statistics: the per-channel mean (0-255 scale, subtracted from every input) and
/// the PCA basis of the 3x3 RGB covariance for the paper's colour augmentation (PAPER.md trap 6: computed from
/// the team's own data, kept in the manifest).
/// </summary>
/// <remarks>
/// The covariance, and so the eigenvalues, are on the 0-1 pixel scale, the scale of the widely quoted ImageNet
/// constants (0.2175, 0.0188, 0.0045). The paper's shift p[a1 l1, a2 l2, a3 l3]^T is not scale-free (l is in
/// pixel units squared); on 0-1 it moves ImageNet pixels by about 5 levels of 255, as the paper intends ("small"
/// changes of intensity and colour). <see cref="ColorShift"/> returns the shift on the 0-255 scale.
/// </remarks>
public sealed record ColorStatistics(float[] Mean, PcaBasis Pca)
{
    /// <summary>Standard deviation of the paper's per-image coefficients a_i.</summary>
    public const double PaperAlphaStd = 0.1;

    /// <summary>
    /// Per-channel standard deviation on the 0-255 scale, from the covariance's diagonal (sum_i l_i p_i[c]^2), at least
    /// 1 so that a constant channel is not blown up.
    /// </summary>
    public float[] ChannelStd()
    {
        var std = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double variance = 0;
            for (int i = 0; i < 3; i++)
                variance += Math.Max(0, (double)Pca.EigenValues[i]) * Pca.EigenVectors[i][c] * Pca.EigenVectors[i][c];
            std[c] = (float)Math.Max(1, 255 * Math.Sqrt(variance));
        }
        return std;
    }

    public static ColorStatistics Compute(IEnumerable<BaseImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        Span<double> sums = stackalloc double[3];
        Span<double> products = stackalloc double[9];
        double pixels = 0;
        foreach (BaseImage image in images)
        {
            image.Accumulate(sums, products);
            pixels += (double)image.Side * image.Side;
        }
        if (pixels == 0)
            throw new InvalidDataException("no training images to compute the mean and colour basis from");

        var mean = new double[3];
        for (int c = 0; c < 3; c++)
            mean[c] = sums[c] / pixels;
        var covariance = new double[3, 3];
        for (int a = 0; a < 3; a++)
        {
            for (int b = 0; b < 3; b++)
                covariance[a, b] = (products[a * 3 + b] / pixels - mean[a] * mean[b]) / (255.0 * 255.0);
        }
        var (values, vectors) = SymmetricEigen(covariance);
        return new ColorStatistics(
            mean.Select(v => (float)v).ToArray(),
            new PcaBasis(values.Select(v => (float)Math.Max(v, 0)).ToArray(),
                vectors.Select(v => v.Select(x => (float)x).ToArray()).ToArray()));
    }

    /// <summary>
    /// The paper's colour shift for coefficients a (one per component), on the 0-255 scale:
    /// sum_i a_i * l_i * p_i, p_i the i-th eigenvector (a row of <see cref="PcaBasis.EigenVectors"/>).
    /// </summary>
    public static void ColorShift(PcaBasis pca, ReadOnlySpan<double> alphas, Span<float> shift)
    {
        ArgumentNullException.ThrowIfNull(pca);
        shift[..3].Clear();
        for (int i = 0; i < 3; i++)
        {
            double weight = alphas[i] * pca.EigenValues[i] * 255.0;
            for (int c = 0; c < 3; c++)
                shift[c] += (float)(weight * pca.EigenVectors[i][c]);
        }
    }

    /// <summary>Eigenvalues (descending) and unit eigenvectors (rows) of a symmetric 3x3 matrix, by Jacobi rotations.</summary>
    internal static (double[] Values, double[][] Vectors) SymmetricEigen(double[,] matrix)
    {
        var a = (double[,])matrix.Clone();
        var v = new double[3, 3] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = Math.Abs(a[0, 1]) + Math.Abs(a[0, 2]) + Math.Abs(a[1, 2]);
            if (off < 1e-15)
                break;
            for (int p = 0; p < 2; p++)
            {
                for (int q = p + 1; q < 3; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300)
                        continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < 3; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < 3; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < 3; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        int[] order = [.. Enumerable.Range(0, 3).OrderByDescending(i => a[i, i])];
        return (order.Select(i => a[i, i]).ToArray(), order.Select(i => new[] { v[0, i], v[1, i], v[2, i] }).ToArray());
    }
}
