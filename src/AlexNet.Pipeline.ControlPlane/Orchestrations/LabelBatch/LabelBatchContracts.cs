using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlexNet.Pipeline.Contracts;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// How a batch was cut: chunk <c>i</c> holds images <c>[i * ChunkSize, min((i + 1) * ChunkSize, Images))</c> of the
/// listing in name order, and its id is <see cref="ChunkId"/>. Three numbers describe any batch, so the plan costs
/// the orchestration history nothing however many images there are; the paths live in the chunk request blobs.
/// </summary>
public sealed record ChunkPlan(int Images, int ChunkSize, int Chunks)
{
    public static string ChunkId(int index) => PipelineNames.ChunkId(index);

    /// <summary>The index of a chunk id made by <see cref="ChunkId"/>, or -1 for any other name.</summary>
    public static int ChunkIndex(string chunkId) =>
        chunkId.Length > 1 && chunkId[0] == 'c' && int.TryParse(chunkId.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? index : -1;

    public int ChunkImages(int index) => index < 0 || index >= Chunks ? 0 : Math.Min(ChunkSize, Images - index * ChunkSize);
}

public sealed record ListAndChunkInput(string Batch, string Container, string Prefix, int ChunkSize);

/// <param name="Attempt">0 for the first send; a resend's number otherwise, which gives its messages new ids.</param>
public sealed record SendChunksInput(string Batch, IReadOnlyList<int> Chunks, int Attempt, string? CropMode);

public sealed record CheckChunksInput(string Batch, IReadOnlyList<int> Chunks);

/// <summary>What the done markers of some chunks add up to.</summary>
/// <param name="Vanished">Images deleted, or replaced since they were queued, before the worker read them: no record.</param>
public sealed record ChunkTotals(int Images, int Labeled, int AlreadyLabeled, int Rejected, int Failed, double WorkerSeconds, int Vanished = 0)
{
    public static readonly ChunkTotals None = new(0, 0, 0, 0, 0, 0);

    public ChunkTotals Add(ChunkTotals other) => new(
        Images + other.Images, Labeled + other.Labeled, AlreadyLabeled + other.AlreadyLabeled,
        Rejected + other.Rejected, Failed + other.Failed, WorkerSeconds + other.WorkerSeconds, Vanished + other.Vanished);

    public ChunkTotals Add(ChunkDone done) => Add(new ChunkTotals(done.Images, done.Labeled, done.AlreadyLabeled, done.Rejected, done.Failed, done.Seconds, done.Vanished));
}

/// <summary>Which of the asked chunks have a done marker now, and what those markers say.</summary>
public sealed record ChunkCheck(IReadOnlyList<int> Done, ChunkTotals Totals);

public sealed record CountDoneChunksInput(string Batch, ChunkPlan Plan);

public sealed record DoneChunkCount(int ChunksDone, int ImagesDone);

/// <summary>One sub-orchestration's share of a batch: chunks <c>[First, First + Count)</c>.</summary>
/// <param name="State">Null on the first execution; carried through ContinueAsNew afterwards.</param>
public sealed record ChunkGroupInput(
    string Batch,
    int First,
    int Count,
    string? CropMode,
    int ChunkTimeoutSeconds,
    int MaxResends,
    int PollSeconds,
    int PollsPerHistory,
    ChunkGroupState? State = null);

/// <param name="LastChangeAt">Orchestration time of the last send or the last chunk seen done: the timeout counts from it.</param>
public sealed record ChunkGroupState(IReadOnlyList<int> Missing, ChunkTotals Totals, DateTime LastChangeAt, int Resends);

public sealed record ChunkGroupResult(int First, int Count, ChunkTotals Totals, int Resends);

/// <param name="Chunks">The plan's chunk count: the report is built from their record files. Null in inputs written before them: from every record.</param>
public sealed record WriteBatchReportInput(string Batch, double MinConfidence, ChunkTotals Totals, double Seconds, int? Chunks = null);

public sealed record BatchReportResult(int Images, int Labeled, int Rejected, int NeedsReview, string SummaryBlob);
