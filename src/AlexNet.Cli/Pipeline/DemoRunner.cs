using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Spectre.Console;

namespace AlexNet.Cli.Pipeline;

/// <summary>
/// The README's demo, through the running pipeline: put the bundled labeled sample into <c>training/demo/</c>,
/// retrain (train job on the worker, evaluation, promotion gate), upload unlabeled images (and two broken files)
/// into <c>incoming/&lt;batch&gt;/</c>, label the batch through the LabelBatch orchestration, and show the result.
/// </summary>
internal sealed class DemoRunner(IBlobStore store, IOrchestrationClient orchestrations, TimeProvider time, TextWriter output)
{
    private const string Dataset = "demo";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static string? FindSamples()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                string candidate = Path.Combine(folder.FullName, "samples", "fashion-mnist");
                if (Directory.Exists(Path.Combine(candidate, "train")))
                    return candidate;
            }
        }
        return null;
    }

    public async Task<int> RunAsync(string samples, int epochs, LocalPipelineSettings settings, CancellationToken cancellationToken)
    {
        string stamp = time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);

        int uploaded = await UploadFolderAsync(Path.Combine(samples, "train"), PipelineNames.TrainingContainer, $"{Dataset}/", cancellationToken);
        Say($"1/4 training set: {uploaded} labeled images in training/{Dataset}/ ({Directory.GetDirectories(Path.Combine(samples, "train")).Length} classes)");

        // Input 64 for 28x28 images; base size and batch size follow from the training defaults (73, and 16 for 720 images).
        var retrainInput = new RetrainInput(Dataset, Epochs: epochs, InputSize: 64, TrainTimeoutMinutes: 60, PollSeconds: 2);
        string retrainId = $"{RetrainNames.InstancePrefix}{Dataset}-{stamp}";
        await orchestrations.StartRetrainAsync(retrainId, retrainInput, cancellationToken);
        Say($"2/4 retraining ({epochs} epochs on the worker, then evaluation and the promotion gate): orchestration {retrainId}");
        OrchestrationStatus retrain = await WaitAsync(retrainId, cancellationToken);
        var retrainResult = Output<RetrainResult>(retrain);
        Say($"    {retrainResult?.Outcome}: {retrainResult?.Reason}");
        if (retrainResult is null || retrainResult.Outcome is RetrainOutcome.Rejected or RetrainOutcome.Refused && retrainResult.CurrentVersion is null)
            return CliApplication.Failure;

        string batch = $"demo-{stamp}";
        int images = await UploadFolderAsync(Path.Combine(samples, "unlabeled"), PipelineNames.IncomingContainer, $"{batch}/", cancellationToken);
        byte[] first = await File.ReadAllBytesAsync(Directory.GetFiles(Path.Combine(samples, "unlabeled")).Order(StringComparer.Ordinal).First(), cancellationToken);
        await store.CreateIfAbsentAsync(PipelineNames.IncomingContainer, $"{batch}/broken.png", BinaryData.FromBytes(first[..(first.Length / 2)]), "image/png", cancellationToken);
        await store.CreateIfAbsentAsync(PipelineNames.IncomingContainer, $"{batch}/notes.jpg", BinaryData.FromString("not an image, named like one"), "image/jpeg", cancellationToken);
        Say($"3/4 uploaded {images} unlabeled images and 2 broken files to incoming/{batch}/");

        await orchestrations.StartLabelBatchAsync(new LabelBatchInput(batch, ChunkSize: 16, PollSeconds: 1, ChunkTimeoutSeconds: 300), cancellationToken);
        Say($"4/4 labeling batch {batch} through the LabelBatch orchestration");
        OrchestrationStatus labeling = await WaitAsync(batch, cancellationToken);
        var result = Output<BatchResult>(labeling);
        if (labeling.State != OrchestrationState.Completed || result is null)
        {
            Say($"labeling did not complete: {labeling.State} {labeling.FailureMessage}");
            return CliApplication.Failure;
        }

        var (correct, total) = await ScoreAsync(batch, Path.Combine(samples, "unlabeled-answers.csv"), cancellationToken);
        WriteSummary(batch, result, retrainResult, correct, total, settings);
        return result.Failed > 0 ? CliApplication.Failure : 0;
    }

    private async Task<int> UploadFolderAsync(string folder, string container, string prefix, CancellationToken cancellationToken)
    {
        int count = 0;
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string name = prefix + Path.GetRelativePath(folder, file).Replace('\\', '/');
            // Create-if-absent keeps ETags, so a second demo finds the same training set and skips retraining.
            await store.CreateIfAbsentAsync(container, name, BinaryData.FromBytes(await File.ReadAllBytesAsync(file, cancellationToken)), "image/png", cancellationToken);
            count++;
        }
        return count;
    }

    private async Task<OrchestrationStatus> WaitAsync(string instanceId, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        string? lastProgress = null;
        OrchestrationState last = OrchestrationState.Pending;
        try
        {
            return await orchestrations.WaitForEndAsync(instanceId, TimeSpan.FromSeconds(1), time, linked.Token, status =>
            {
                last = status.State;
                if (status.CustomStatusJson is { } progress && progress != lastProgress)
                {
                    Say($"    {ProgressLine(progress)}");
                    lastProgress = progress;
                }
            });
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"orchestration {instanceId} did not finish within {Timeout.TotalMinutes:F0} minutes (last state {last})");
        }
    }

    /// <summary>
    /// An orchestration's progress as one line, <c>phase training, jobId ...</c>: the engine's own JSON names its members
    /// in PascalCase (the API answers camelCase; the demo says it in the API's words).
    /// </summary>
    private static string ProgressLine(string progressJson)
    {
        try
        {
            return JsonNode.Parse(progressJson) is JsonObject members
                ? string.Join(", ", members
                    .Select(m => (Name: JsonNamingPolicy.CamelCase.ConvertName(m.Key), Value: m.Value?.ToJsonString().Trim('"')))
                    .Where(m => !string.IsNullOrEmpty(m.Value) && m.Value != "null")
                    .Select(m => $"{m.Name} {m.Value}"))
                : progressJson;
        }
        catch (JsonException)
        {
            return progressJson;
        }
    }

    private static T? Output<T>(OrchestrationStatus status) =>
        status.OutputJson is { Length: > 0 } json ? JsonSerializer.Deserialize<T>(json, Json) : default;

    private async Task<(int Correct, int Total)> ScoreAsync(string batch, string answersFile, CancellationToken cancellationToken)
    {
        int correct = 0, total = 0;
        foreach (string line in (await File.ReadAllLinesAsync(answersFile, cancellationToken)).Skip(1))
        {
            string[] parts = line.Split(',');
            if (parts.Length != 2)
                continue;
            BlobDownload? record = await store.DownloadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, parts[0]), cancellationToken);
            if (record is null)
                continue;
            total++;
            var label = JsonSerializer.Deserialize(record.Content.ToMemory().Span, LabelJsonContext.Default.LabelRecord);
            if (label?.Top5.Count > 0 && label.Top5[0].Label == parts[1])
                correct++;
        }
        return (correct, total);
    }

    private void WriteSummary(string batch, BatchResult result, RetrainResult retrain, int correct, int total, LocalPipelineSettings settings)
    {
        var console = CliConsole.For(output);
        var table = new Table().Title($"demo batch {batch}").AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        table.AddRow("model", Markup.Escape($"{retrain.CandidateVersion ?? retrain.CurrentVersion} ({retrain.Outcome})"));
        if (retrain.CandidateTop1Error is { } top1 && retrain.CandidateTop5Error is { } top5)
            table.AddRow("validation top-1 / top-5 error", string.Create(CultureInfo.InvariantCulture, $"{top1:P1} / {top5:P1}"));
        table.AddRow("images in the batch", result.Images.ToString(CultureInfo.InvariantCulture));
        table.AddRow("labeled / rejected / failed", $"{result.Labeled} / {result.Rejected} / {result.Failed}");
        table.AddRow("low confidence (review.jsonl)", result.NeedsReview.ToString(CultureInfo.InvariantCulture));
        table.AddRow("top-1 right (against the sample's answers)", total > 0 ? string.Create(CultureInfo.InvariantCulture, $"{correct} of {total} ({(double)correct / total:P0})") : "-");
        table.AddRow("throughput", string.Create(CultureInfo.InvariantCulture, $"{result.ImagesPerSecond:F1} img/s over {result.Seconds:F1} s, {result.Chunks} chunks, {result.Resends} resends"));
        console.Write(table);
        const string account = "http://127.0.0.1:10000/devstoreaccount1";
        console.WriteLine($"labels:  {account}/labels/{batch}/ (labels.jsonl, labels.csv, summary.json, review.jsonl, one <image>.json each)");
        console.WriteLine($"rejects: {account}/rejected/{batch}/");
        console.WriteLine($"model:   {account}/models/current.json and models/<version>/ (manifest.json, weights.safetensors)");
        if (retrain.JobId is { } job)
            console.WriteLine($"metrics: {account}/runs/{job}/ (metrics.json, plots)");
        console.WriteLine($"API:     http://127.0.0.1:{settings.Port}/api/batches/{batch} (while the pipeline runs: alexnet pipeline)");
        console.WriteLine($"review:  http://127.0.0.1:{settings.Port}/api/review (the {result.NeedsReview} low-confidence labels, in a browser, while alexnet pipeline runs)");
    }

    private void Say(string line)
    {
        lock (output)
            output.WriteLine(line);
    }
}
