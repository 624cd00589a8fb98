using System.Text.Json;
using AlexNet.Model.Evaluation;
using AlexNet.Model.Reporting;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Scores candidate and current model on the same validation images (<see cref="ICandidateEvaluator"/>) and writes
/// the evidence into <c>runs/&lt;job&gt;/</c>: <c>evaluation.json</c> (both reports), <c>label-churn.json</c> (which
/// top-1 labels the candidate would change), and PNG plots (confusion matrices, error comparison). Returns only the
/// scores and counts, which go into <c>train-done.json</c> for the Retrain orchestration's gate. Runs in the train job
/// that made the candidate, where the data, the devices and libtorch are.
/// </summary>
public sealed class CandidateEvaluation(ICandidateEvaluator evaluator, IBlobStore store)
{
    private const int ChurnExamples = 50;
    private const int ChurnTransitions = 20;

    public async Task<EvaluationSummary> RunAsync(EvaluateCandidateInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ModelComparison comparison = await evaluator.CompareAsync(input, cancellationToken).ConfigureAwait(false);
        var artifacts = new List<string>();

        await PutAsync(input.JobId, RetrainPaths.Evaluation, JsonSerializer.SerializeToUtf8Bytes(comparison, RetrainJsonContext.Default.ModelComparison), "application/json", artifacts).ConfigureAwait(false);
        if (comparison.Current is not null)
        {
            var churn = new LabelChurnReport(
                input.CandidateVersion,
                input.CurrentVersion,
                comparison.Compared,
                comparison.Changes.Count,
                comparison.Compared == 0 ? 0 : (double)comparison.Changes.Count / comparison.Compared,
                comparison.Changes.GroupBy(c => (c.Current, c.Candidate))
                    .Select(g => new LabelTransition(g.Key.Current, g.Key.Candidate, g.Count()))
                    .OrderByDescending(t => t.Images).ThenBy(t => t.Current, StringComparer.Ordinal).ThenBy(t => t.Candidate, StringComparer.Ordinal)
                    .Take(ChurnTransitions).ToArray(),
                comparison.Changes.Take(ChurnExamples).ToArray());
            await PutAsync(input.JobId, RetrainPaths.LabelChurn, JsonSerializer.SerializeToUtf8Bytes(churn, RetrainJsonContext.Default.LabelChurnReport), "application/json", artifacts).ConfigureAwait(false);
        }

        await WritePlotsAsync(input.JobId, comparison, artifacts).ConfigureAwait(false);
        return new EvaluationSummary(comparison.ValidationSet, comparison.Images, comparison.Candidate, comparison.Current,
            comparison.Changes.Count, comparison.Compared, artifacts, comparison.Classes, comparison.MajorityTop1Error, comparison.CurrentNotScored);
    }

    private async Task WritePlotsAsync(string jobId, ModelComparison comparison, List<string> artifacts)
    {
        string folder = Directory.CreateTempSubdirectory("alexnet-retrain-").FullName;
        try
        {
            // Confusion plots first: they make TrainingPlots find the font the comparison plot borrows.
            await PlotAsync(jobId, folder, RetrainPaths.CandidateConfusionPlot, comparison.CandidateReport, artifacts).ConfigureAwait(false);
            await PlotAsync(jobId, folder, RetrainPaths.CurrentConfusionPlot, comparison.CurrentReport, artifacts).ConfigureAwait(false);
            string path = Path.Combine(folder, RetrainPaths.ComparisonPlot);
            ComparisonPlot.Write(path, comparison.Candidate, comparison.Current);
            await PutAsync(jobId, RetrainPaths.ComparisonPlot, await File.ReadAllBytesAsync(path).ConfigureAwait(false), "image/png", artifacts).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private async Task PlotAsync(string jobId, string folder, string file, EvaluationReport? report, List<string> artifacts)
    {
        if (report is null)
            return;
        string path = Path.Combine(folder, file);
        TrainingPlots.WriteConfusion(path, report);
        await PutAsync(jobId, file, await File.ReadAllBytesAsync(path).ConfigureAwait(false), "image/png", artifacts).ConfigureAwait(false);
    }

    private async Task PutAsync(string jobId, string file, byte[] content, string contentType, List<string> artifacts)
    {
        await store.UploadAsync(PipelineNames.RunsContainer, RetrainPaths.RunFile(jobId, file), BinaryData.FromBytes(content), contentType).ConfigureAwait(false);
        artifacts.Add(RetrainPaths.Blob(jobId, file));
    }
}
