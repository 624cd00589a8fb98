using AlexNet.Model.Data;
using AlexNet.Model.Packaging;

namespace AlexNet.Model.Training;

/// <summary>
/// One training batch, ready for the optimiser: <see cref="Count"/> random crops as interleaved RGB bytes
/// [Count, side, side, 3], each image's PCA colour shift [Count, 3] (0-255 scale) and its label.
/// </summary>
public sealed record AugmentedBatch(int Epoch, int Step, int Count, byte[] Crops, float[] ColorShifts, long[] Labels);

/// <summary>
/// The paper's training-time augmentation, batch by batch: a seeded shuffle per epoch, then for every image a
/// random crop of the base image, a horizontal reflection with probability 1/2 and a PCA colour shift with
/// a ~ N(0, 0.1) drawn once per image per pass. Every random draw depends only on (seed, epoch, step), so a
/// resumed run sees exactly the batches an uninterrupted one would.
/// </summary>
public sealed class AugmentedBatches(BaseImageStore images, int inputSize, PcaBasis pca, int batchSize, int seed)
{
    public int StepsPerEpoch => (images.Items.Count + batchSize - 1) / batchSize;

    public int[] Order(int epoch)
    {
        int[] order = [.. Enumerable.Range(0, images.Items.Count)];
        new Random(Seeds.Derive(seed, 0xE90C, epoch)).Shuffle(order);
        return order;
    }

    /// <summary>Starts producing the batches of <paramref name="epoch"/> from <paramref name="firstStep"/> on, <paramref name="prefetch"/> ahead.</summary>
    public Prefetched<AugmentedBatch> Start(int epoch, int firstStep, int prefetch, CancellationToken cancellationToken) =>
        new(prefetch, async (writer, token) =>
        {
            int[] order = Order(epoch);
            for (int step = firstStep; step < StepsPerEpoch; step++)
            {
                AugmentedBatch batch = await BuildAsync(epoch, step, order, token).ConfigureAwait(false);
                await writer.WriteAsync(batch, token).ConfigureAwait(false);
            }
        }, cancellationToken);

    public async Task<AugmentedBatch> BuildAsync(int epoch, int step, int[] order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(order);
        int[] indices = order.Skip(step * batchSize).Take(batchSize).ToArray();
        BaseImage?[] decoded = await images.GetAsync(indices, cancellationToken).ConfigureAwait(false);

        var random = new Random(Seeds.Derive(seed, 0xA06, epoch, step));
        int cropBytes = inputSize * inputSize * 3;
        int count = decoded.Count(image => image is not null);
        var crops = new byte[count * cropBytes];
        var shifts = new float[count * 3];
        var labels = new long[count];
        Span<double> alphas = stackalloc double[3];
        int k = 0;
        for (int i = 0; i < indices.Length; i++)
        {
            // Draw for every slot, used or not, so a rejected image does not shift its neighbours' draws.
            BaseImage? image = decoded[i];
            int slack = (image?.Side ?? inputSize) - inputSize;
            int top = random.Next(slack + 1), left = random.Next(slack + 1);
            bool flip = random.Next(2) == 1;
            for (int c = 0; c < 3; c++)
                alphas[c] = ColorStatistics.PaperAlphaStd * Gaussian(random);
            if (image is null)
                continue;
            image.CopyCrop(top, left, inputSize, flip, crops.AsSpan(k * cropBytes, cropBytes));
            ColorStatistics.ColorShift(pca, alphas, shifts.AsSpan(k * 3, 3));
            labels[k] = images.Items[indices[i]].Label;
            k++;
        }
        return new AugmentedBatch(epoch, step, count, crops, shifts, labels);
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
