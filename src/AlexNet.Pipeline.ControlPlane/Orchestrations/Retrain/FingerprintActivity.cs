using AlexNet.Model.Data;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Fingerprints <c>training/&lt;dataset&gt;/</c> the way the trainer does (sorted <c>class/name</c> keys and sizes, see
/// <see cref="ImageDataSet.Fingerprint"/>) and reads the current model's training-data fingerprint, so an unchanged
/// training set is not trained on again; counts the set's reviewed images (<see cref="ReviewedTrainingData"/>) for the report.
/// </summary>
[DurableTask(OrchestrationNames.Fingerprint)]
public sealed class FingerprintActivity(IBlobStore store, ModelRegistry models) : TaskActivity<string, FingerprintResult>
{
    public override async Task<FingerprintResult> RunAsync(TaskActivityContext context, string input)
    {
        RetrainNames.ValidateDataset(input);
        ImageDataSet data = await ImageDataSet.ListAsync(new TrainingSetSource(store, input)).ConfigureAwait(false);
        if (data.Classes.Count < 2)
            throw new InvalidDataException($"training/{input}/ has {data.Classes.Count} class folder(s) with images; training needs at least 2 (training/{input}/<class>/<file>)");

        CurrentModelPointer? current = await models.GetCurrentAsync().ConfigureAwait(false);
        ModelManifest? manifest = current is null ? null : await models.GetManifestAsync(current.Version).ConfigureAwait(false);
        ReviewedDataSummary reviewed = await ReviewedTrainingData.SummarizeAsync(store, input, data.Items.Select(i => i.Entry), manifest?.CreatedAt).ConfigureAwait(false);
        return new FingerprintResult(data.Fingerprint, data.Items.Count, data.Classes.Count, current?.Version, manifest?.TrainingDataFingerprint, reviewed);
    }
}
