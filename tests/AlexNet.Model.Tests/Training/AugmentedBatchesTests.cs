using AlexNet.Model.Data;
using AlexNet.Model.Packaging;
using AlexNet.Model.Tests.Data;
using AlexNet.Model.Training;

namespace AlexNet.Model.Tests.Training;

public sealed class AugmentedBatchesTests : IDisposable
{
    private const int Base = 72;
    private const int Input = 64;
    private static readonly PcaBasis Pca = new([0.2f, 0.02f, 0.004f], [[0.58f, 0.58f, 0.58f], [0.7f, 0, -0.7f], [0.4f, -0.8f, 0.4f]]);
    private readonly TempFolder temp = new();

    private async Task<BaseImageStore> Store(bool gray = false, int perClass = 10)
    {
        var data = await ImageDataSet.ListAsync(new FolderImageSource(TinyImages.Create(temp.Sub("data"), classes: 3, perClass: perClass, gray: gray)));
        return await BaseImageStore.CreateAsync(data.Items, new BaseImageLoader(data.Source, Base), cached: true, parallelism: 2);
    }

    [Fact]
    public async Task SameSeedEpochAndStepGiveTheSameBatch()
    {
        BaseImageStore store = await Store();
        var batches = new AugmentedBatches(store, Input, Pca, batchSize: 8, seed: 9);

        AugmentedBatch a = await batches.BuildAsync(2, 1, batches.Order(2));
        AugmentedBatch b = await new AugmentedBatches(store, Input, Pca, 8, 9).BuildAsync(2, 1, batches.Order(2));
        AugmentedBatch otherEpoch = await batches.BuildAsync(3, 1, batches.Order(3));

        Assert.Equal(a.Crops, b.Crops);
        Assert.Equal(a.ColorShifts, b.ColorShifts);
        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Crops, otherEpoch.Crops);
        Assert.NotEqual(batches.Order(2), batches.Order(3));
        Assert.Equal(Enumerable.Range(0, 30), batches.Order(2).Order());
    }

    [Fact]
    public async Task CropsAreWindowsOfTheBaseImageOrTheirReflectionsAndGrayStaysGray()
    {
        BaseImageStore store = await Store(gray: true);
        var batches = new AugmentedBatches(store, Input, Pca, batchSize: 30, seed: 1);
        int[] order = batches.Order(1);

        AugmentedBatch batch = await batches.BuildAsync(1, 0, order);

        int flipped = 0;
        for (int k = 0; k < batch.Count; k++)
        {
            BaseImage image = (await store.GetAsync([order[k]]))[0]!;
            byte[] crop = batch.Crops.AsSpan(k * Input * Input * 3, Input * Input * 3).ToArray();
            Assert.All(crop.Chunk(3), p => Assert.True(p[0] == p[1] && p[1] == p[2]));
            bool found = false;
            var candidate = new byte[crop.Length];
            for (int top = 0; top <= Base - Input && !found; top++)
            {
                for (int left = 0; left <= Base - Input && !found; left++)
                {
                    foreach (bool flip in new[] { false, true })
                    {
                        image.CopyCrop(top, left, Input, flip, candidate);
                        if (candidate.AsSpan().SequenceEqual(crop))
                        {
                            found = true;
                            flipped += flip ? 1 : 0;
                            break;
                        }
                    }
                }
            }
            Assert.True(found, $"crop {k} is no window of its base image");
            Assert.Equal(store.Items[order[k]].Label, batch.Labels[k]);
        }
        Assert.InRange(flipped, 5, 25);
        // Shifts follow the paper: sum of a_i l_i p_i with a ~ N(0, 0.1); the first component dominates.
        float[] shifts = batch.ColorShifts;
        double spread = Math.Sqrt(shifts.Where((_, i) => i % 3 == 0).Average(v => (double)v * v));
        Assert.InRange(spread, 0.1 * 0.2 * 255 * 0.58 * 0.4, 0.1 * 0.2 * 255 * 0.58 * 2.5);
    }

    [Fact]
    public async Task APrefetchedEpochDeliversEveryBatchInOrderFromTheStartStep()
    {
        BaseImageStore store = await Store(perClass: 11);
        var batches = new AugmentedBatches(store, Input, Pca, batchSize: 8, seed: 2);

        var steps = new List<int>();
        var labels = new List<long>();
        await using (var prefetched = batches.Start(epoch: 1, firstStep: 1, prefetch: 2, CancellationToken.None))
        {
            await foreach (AugmentedBatch batch in prefetched.Reader.ReadAllAsync())
            {
                steps.Add(batch.Step);
                labels.AddRange(batch.Labels);
            }
        }

        Assert.Equal(5, batches.StepsPerEpoch);
        Assert.Equal([1, 2, 3, 4], steps);
        Assert.Equal(33 - 8, labels.Count);
        Assert.Equal(batches.Order(1).Skip(8).Select(i => (long)store.Items[i].Label), labels);
    }

    public void Dispose() => temp.Dispose();
}
