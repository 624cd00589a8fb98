using AlexNet.Model.Data;
using AlexNet.Model.Inference;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using static TorchSharp.torch;

namespace AlexNet.Model.Evaluation;

/// <summary>
/// Scores a network on labeled images: top-1 and top-5 error, loss, per-class accuracy and the confusion matrix,
/// for the centre crop and/or the paper's ten crops. Decoding runs ahead of the forward pass in a bounded
/// channel.
/// </summary>
public static class Evaluator
{
    public const int DefaultBatchSize = 128;

    /// <summary>Evaluates a model package on a data set (its classes must be among the model's).</summary>
    public static async Task<IReadOnlyList<EvaluationReport>> EvaluateAsync(
        ModelPackage package, ImageDataSet data, IReadOnlyList<CropMode> modes, int batchSize = DefaultBatchSize,
        int parallelism = 0, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(data);
        ModelManifest manifest = package.Manifest;
        IReadOnlyList<LabeledImage> items = data.RelabelFor(manifest.Classes);
        int workers = parallelism > 0 ? parallelism : Environment.ProcessorCount;
        BaseImageStore store = await BaseImageStore.CreateAsync(items, new BaseImageLoader(data.Source, manifest.BaseSize), cached: false, workers, cancellationToken).ConfigureAwait(false);
        using AlexNetNetwork network = package.CreateNetwork();
        network.eval();
        return await EvaluateAsync(network, manifest.Mean, manifest.Std, manifest.InputSize, store, manifest.Classes, modes, batchSize, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Evaluates a network (put in eval mode by the caller) on the images of a store.</summary>
    public static async Task<IReadOnlyList<EvaluationReport>> EvaluateAsync(
        AlexNetNetwork network, IReadOnlyList<float> mean, IReadOnlyList<float>? std, int inputSize, BaseImageStore images, IReadOnlyList<string> classes,
        IReadOnlyList<CropMode> modes, int batchSize = DefaultBatchSize, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(modes);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        EvaluationAccumulator[] accumulators = modes.Select(_ => new EvaluationAccumulator(classes)).ToArray();
        await using var batches = new Prefetched<(BaseImage[] Images, long[] Labels)>(2, async (writer, token) =>
        {
            for (int start = 0; start < images.Items.Count; start += batchSize)
            {
                int[] indices = Enumerable.Range(start, Math.Min(batchSize, images.Items.Count - start)).ToArray();
                BaseImage?[] decoded = await images.GetAsync(indices, token).ConfigureAwait(false);
                int[] kept = indices.Where((_, k) => decoded[k] is not null).ToArray();
                await writer.WriteAsync((decoded.OfType<BaseImage>().ToArray(), kept.Select(i => (long)images.Items[i].Label).ToArray()), token).ConfigureAwait(false);
            }
        }, cancellationToken);

        int done = 0;
        await foreach (var (batch, labels) in batches.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (batch.Length > 0)
            {
                using Tensor packed = Pack(batch);
                for (int m = 0; m < modes.Count; m++)
                {
                    using Tensor probabilities = Classifier.Probabilities(network, mean, std, inputSize, packed, modes[m]);
                    accumulators[m].Add(probabilities, labels);
                }
            }
            done += batch.Length;
            progress?.Report(done);
        }
        return modes.Select((mode, m) => accumulators[m].Report(mode.ToString())).ToArray();
    }

    private static Tensor Pack(BaseImage[] batch)
    {
        int side = batch[0].Side;
        int bytes = side * side * 3;
        var memory = new ReadOnlyMemory<byte>[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            var rgb = new byte[bytes];
            batch[i].CopyRgb(rgb);
            memory[i] = rgb;
        }
        return ImageTensors.Pack(memory, side);
    }
}
