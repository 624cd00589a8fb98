using System.Collections.Concurrent;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// What the worker leaves for the orchestration when it finishes a chunk: first the chunk's records file
/// (<see cref="ChunkRecords"/>, from which the batch report is built), then its done marker (<see cref="ChunkDone"/>), so a
/// marker always has its records file.
/// </summary>
internal sealed class ChunkOutputs(IBlobStore store)
{
    /// <summary>Writes the records file (replacing one of an earlier delivery) and creates the done marker if absent.</summary>
    public async Task WriteAsync(
        LabelRequest request, List<(string Container, string Path)> paths, ConcurrentDictionary<(string Container, string Path), ItemResult> outcomes, ChunkDone done)
    {
        ChunkRecords records = await RecordsAsync(request.Batch, request.Chunk, paths, outcomes).ConfigureAwait(false);
        await store.UploadAsync(
            PipelineNames.RunsContainer, PipelineNames.ChunkRecordsBlob(request.Batch, request.Chunk),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(records, LabelJsonContext.Default.ChunkRecords)), "application/json",
            cancellationToken: CancellationToken.None).ConfigureAwait(false);
        // Create-if-absent: a redelivered chunk keeps the marker of the run that finished it first.
        await store.CreateIfAbsentAsync(
            PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(request.Batch, request.Chunk),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(done, ContractsJsonContext.Default.ChunkDone)), "application/json",
            CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// The records that stand for a chunk's images, in its request's order: from the outcomes, which carry them; read
    /// from storage only for an outcome that does not (none this engine gives).
    /// </summary>
    private async Task<ChunkRecords> RecordsAsync(
        string batch, string chunk, List<(string Container, string Path)> paths, ConcurrentDictionary<(string Container, string Path), ItemResult> outcomes)
    {
        var labels = new List<LabelRecord>();
        var rejected = new List<RejectedRecord>();
        foreach (var path in paths)
        {
            ItemResult result = outcomes[path];
            switch (result.Outcome)
            {
                case LabelOutcome.Labeled or LabelOutcome.AlreadyLabeled:
                    labels.Add(result.Label ?? await ReadAsync(LabelPaths.LabelsContainer, batch, result.Image, LabelJsonContext.Default.LabelRecord).ConfigureAwait(false));
                    break;
                case LabelOutcome.Rejected:
                    rejected.Add(result.Rejection ?? await ReadAsync(LabelPaths.RejectedContainer, batch, result.Image, LabelJsonContext.Default.RejectedRecord).ConfigureAwait(false));
                    break;
            }
        }
        return new ChunkRecords(batch, chunk, labels, rejected);
    }

    private async Task<T> ReadAsync<T>(string container, string batch, ImageRef image, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        string name = LabelPaths.Record(batch, image.RecordKey);
        BlobDownload download = await store.DownloadAsync(container, name, CancellationToken.None).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{container}/{name} is missing although the image's outcome says it was written");
        return JsonSerializer.Deserialize(download.Content.ToMemory().Span, type) ?? throw new InvalidOperationException($"{container}/{name} is empty");
    }
}
