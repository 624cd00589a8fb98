using AlexNet.Model.Data;
using AlexNet.Model.Evaluation;
using AlexNet.Model.Inference;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Model.Training;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using static TorchSharp.torch;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Evaluates both models, centre crop, on the held-out images of the data set:
/// <list type="bullet">
/// <item><c>training/&lt;dataset&gt;-validation/&lt;class&gt;/...</c> when that folder has images: a fixed set neither model trained on;</item>
/// <item>otherwise the validation part of the trainer's own split (<see cref="ImageDataSet.Split"/> with the trainer's
/// default fraction and the job's seed): exactly the images the candidate was held out from. The current model was
/// trained on an older listing and may have seen some of them, which favours it: the gate errs towards keeping it.</item>
/// </list>
/// Records each image's top-1 label under both models for the label-churn report.
/// </summary>
public sealed class ValidationSetEvaluator(IBlobStore store, ModelRegistry models) : ICandidateEvaluator
{
    public const string ValidationSuffix = "-validation";
    private const int BatchSize = 128;

    public async Task<ModelComparison> CompareAsync(EvaluateCandidateInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (description, source, items) = await ValidationItemsAsync(input, cancellationToken).ConfigureAwait(false);
        if (items.Count == 0)
            throw new InvalidDataException($"{description} has no images to evaluate on");

        ModelPackage candidate = await models.LoadAsync(input.CandidateVersion, cancellationToken).ConfigureAwait(false);
        var (candidateReport, candidateTop1) = await EvaluateAsync(candidate, source, items, cancellationToken).ConfigureAwait(false);
        EvaluationReport? currentReport = null;
        Dictionary<string, string>? currentTop1 = null;
        string? currentNotScored = null;
        if (input.CurrentVersion is not null)
        {
            ModelPackage current = await models.LoadAsync(input.CurrentVersion, cancellationToken).ConfigureAwait(false);
            string[] unknown = items.Select(i => i.Class).Distinct(StringComparer.Ordinal).Except(current.Manifest.Classes, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            if (unknown.Length > 0)
                currentNotScored = $"the current model {input.CurrentVersion} does not know the classes {string.Join(", ", unknown)}, so it cannot be scored on this validation set";
            else
                (currentReport, currentTop1) = await EvaluateAsync(current, source, items, cancellationToken).ConfigureAwait(false);
        }

        var changes = new List<LabelChange>();
        int compared = 0;
        if (currentTop1 is not null)
        {
            foreach (ImageEntry item in items)
            {
                if (currentTop1.TryGetValue(item.Key, out string? before) && candidateTop1.TryGetValue(item.Key, out string? after))
                {
                    compared++;
                    if (!string.Equals(before, after, StringComparison.Ordinal))
                        changes.Add(new LabelChange(item.Key, item.Class, before, after));
                }
            }
        }

        return new ModelComparison(
            description,
            items.Count,
            Score(input.CandidateVersion, candidateReport),
            currentReport is null ? null : Score(input.CurrentVersion!, currentReport),
            changes,
            compared,
            candidateReport,
            currentReport,
            items.Select(i => i.Class).Distinct(StringComparer.Ordinal).Count(),
            MajorityError(items),
            currentNotScored);
    }

    private async Task<(string Description, IImageSource Source, IReadOnlyList<ImageEntry> Items)> ValidationItemsAsync(
        EvaluateCandidateInput input, CancellationToken cancellationToken)
    {
        var fixedSource = new TrainingSetSource(store, input.Dataset + ValidationSuffix);
        ImageDataSet fixedSet = await ImageDataSet.ListAsync(fixedSource, cancellationToken).ConfigureAwait(false);
        if (fixedSet.Items.Count > 0)
            return (fixedSource.Description, fixedSource, fixedSet.Items.Select(i => i.Entry).ToArray());

        var source = new TrainingSetSource(store, input.Dataset);
        ImageDataSet data = await ImageDataSet.ListAsync(source, cancellationToken).ConfigureAwait(false);
        double fraction = new TrainingOptions().ValidationFraction;
        DataSplit split = data.Split(fraction, input.Seed);
        return ($"{source.Description} validation split (fraction {fraction}, seed {input.Seed})", source, split.Validation.Select(i => i.Entry).ToArray());
    }

    /// <summary>One model on the items: its report, and each decoded item's top-1 class name by key.</summary>
    private static async Task<(EvaluationReport Report, Dictionary<string, string> Top1)> EvaluateAsync(
        ModelPackage package, IImageSource source, IReadOnlyList<ImageEntry> items, CancellationToken cancellationToken)
    {
        ModelManifest manifest = package.Manifest;
        var classIndex = manifest.Classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        string[] unknown = items.Select(i => i.Class).Distinct(StringComparer.Ordinal).Where(c => !classIndex.ContainsKey(c)).ToArray();
        if (unknown.Length > 0)
            throw new InvalidDataException($"model {manifest.Version} does not know the validation classes {string.Join(", ", unknown)}");

        LabeledImage[] labeled = items.Select(i => new LabeledImage(i, classIndex[i.Class])).ToArray();
        BaseImageStore images = await BaseImageStore.CreateAsync(labeled, new BaseImageLoader(source, manifest.BaseSize), cached: false, Environment.ProcessorCount, cancellationToken).ConfigureAwait(false);
        var accumulator = new EvaluationAccumulator(manifest.Classes);
        var top1 = new Dictionary<string, string>(StringComparer.Ordinal);
        using AlexNetNetwork network = package.CreateNetwork();
        network.eval();
        for (int start = 0; start < labeled.Length; start += BatchSize)
        {
            int[] indices = Enumerable.Range(start, Math.Min(BatchSize, labeled.Length - start)).ToArray();
            BaseImage?[] decoded = await images.GetAsync(indices, cancellationToken).ConfigureAwait(false);
            int[] kept = indices.Where((_, k) => decoded[k] is not null).ToArray();
            if (kept.Length == 0)
                continue;
            using var scope = NewDisposeScope();
            Tensor packed = Pack(decoded.OfType<BaseImage>().ToArray());
            Tensor probabilities = Classifier.Probabilities(network, manifest.Mean, manifest.Std, manifest.InputSize, packed, CropMode.Center);
            accumulator.Add(probabilities, kept.Select(i => (long)labeled[i].Label).ToArray());
            long[] best = probabilities.argmax(1).data<long>().ToArray();
            for (int k = 0; k < kept.Length; k++)
                top1[labeled[kept[k]].Entry.Key] = manifest.Classes[(int)best[k]];
        }
        return (accumulator.Report(nameof(CropMode.Center)), top1);
    }

    private static Tensor Pack(BaseImage[] batch)
    {
        int side = batch[0].Side;
        var memory = new ReadOnlyMemory<byte>[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            var rgb = new byte[side * side * 3];
            batch[i].CopyRgb(rgb);
            memory[i] = rgb;
        }
        return ImageTensors.Pack(memory, side);
    }

    /// <summary>Top-1 error of always answering the most common class of <paramref name="items"/>.</summary>
    public static double MajorityError(IReadOnlyList<ImageEntry> items) =>
        items.Count == 0 ? 1 : 1 - (double)items.GroupBy(i => i.Class, StringComparer.Ordinal).Max(g => g.Count()) / items.Count;

    private static ModelScore Score(string version, EvaluationReport report) =>
        new(version, report.Images, report.Top1Error, report.Top5Error, report.Loss);
}
