using System.Collections.Concurrent;
using System.Threading.Channels;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Worker;

/// <summary>What a label request says of one image: the ETag it was listed with (null: look it up), and whether it had no record then.</summary>
internal sealed record ListedImage(string? ETag, bool NoRecord);

/// <summary>
/// Finds the version of each image a round of label requests names, for the labeling engine: the ETag the request
/// carries, else the blob's current entry; an image that is gone is Vanished, one whose name cannot be read by its name
/// gets a rejected record.
/// </summary>
internal sealed partial class ImageLookup(IBlobStore store, int readParallelism, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// What the requests say of each image (from the batch listing or the upload event): its ETag, and whether it had
    /// no label record. An image that two requests name with different ETags gets none, so it is looked up; one that
    /// any request does not list as record-less keeps its record look-up.
    /// </summary>
    public static Dictionary<(string Container, string Path), ListedImage> Listed(IEnumerable<ValidLabelRequest> requests)
    {
        var listed = new Dictionary<(string Container, string Path), ListedImage>();
        foreach (ValidLabelRequest valid in requests)
        {
            foreach (LabelItem item in valid.Items)
            {
                var key = (valid.Request.Container, item.Path);
                string? etag = string.IsNullOrEmpty(item.ETag) ? null : item.ETag;
                var entry = new ListedImage(etag, item.HasRecord == false);
                if (listed.TryGetValue(key, out ListedImage? seen))
                    entry = new ListedImage(seen.ETag == etag ? etag : null, seen.NoRecord && entry.NoRecord);
                listed[key] = entry;
            }
        }
        return listed;
    }

    /// <summary>
    /// Each image's version: the ETag its request carries, else its current entry (one request per image). The ETag lets
    /// the engine skip an image already labeled without downloading it; an image missing at look-up or download is Vanished.
    /// </summary>
    public Task LookUpAsync(
        string batch,
        List<(string Container, string Path)> images, IReadOnlyDictionary<(string Container, string Path), ListedImage> listed,
        ChannelWriter<ImageRef> found, ConcurrentDictionary<(string Container, string Path), ItemResult> outcomes, CancellationToken abort) =>
        Task.Run(async () =>
        {
            try
            {
                await Parallel.ForEachAsync(images, new ParallelOptions { MaxDegreeOfParallelism = readParallelism, CancellationToken = abort }, async (image, ct) =>
                {
                    var placeholder = ImageRef.ForBatchBlob(batch, image.Container, image.Path, 0, "");
                    if (LabelPaths.PathProblem(image.Path) is { } problem)
                    {
                        outcomes[image] = await RejectNameAsync(batch, placeholder with { ETag = listed.GetValueOrDefault(image)?.ETag ?? "" }, problem, ct).ConfigureAwait(false);
                        return;
                    }
                    if (listed.GetValueOrDefault(image) is { ETag: { } etag } known)
                    {
                        var listedImage = ImageRef.ForBatchBlob(batch, image.Container, image.Path, 0, etag) with { NoRecordListed = known.NoRecord };
                        await found.WriteAsync(listedImage, ct).ConfigureAwait(false);
                        return;
                    }
                    try
                    {
                        BlobEntry? entry = await store.GetEntryAsync(image.Container, image.Path, ct).ConfigureAwait(false);
                        if (entry is null)
                            outcomes[image] = new ItemResult(placeholder, LabelOutcome.Vanished, "the image does not exist");
                        else
                            await found.WriteAsync(ImageRef.ForBatchBlob(batch, entry.Container, entry.Name, entry.Size, entry.ETag), ct).ConfigureAwait(false);
                    }
                    catch (Exception error) when (error is not OperationCanceledException)
                    {
                        outcomes[image] = new ItemResult(placeholder, LabelOutcome.Failed, error.Message);
                    }
                }).ConfigureAwait(false);
            }
            finally
            {
                found.TryComplete();
            }
        }, CancellationToken.None);

    /// <summary>
    /// An image whose name cannot be used to read it gets a rejected record (named by <see cref="LabelPaths.Record"/>, which
    /// gives any name its own record) instead of failing its message again on every delivery.
    /// </summary>
    private async Task<ItemResult> RejectNameAsync(string batch, ImageRef image, string problem, CancellationToken cancellationToken)
    {
        string reason = $"The blob name '{image.Path}' cannot be read by its name: {problem}. Rename the upload.";
        var record = new RejectedRecord(batch, new ImageIdentity(image.Container, image.Path, image.ETag, "", 0), RejectedRecords.InvalidLocationCode, reason, time.GetUtcNow());
        try
        {
            var (written, previous) = await RejectedRecords.WriteAsync(store, LabelPaths.Record(batch, image.RecordKey), record, cancellationToken).ConfigureAwait(false);
            LogNameRejected(logger, batch, image.Path, problem);
            return new ItemResult(image, LabelOutcome.Rejected, reason) { Rejection = written == RejectedWriteOutcome.AlreadyCurrent && previous is not null ? previous : record };
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return new ItemResult(image, LabelOutcome.Failed, error.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {Batch}: {Path} rejected: {Problem}")]
    private static partial void LogNameRejected(ILogger logger, string batch, string path, string problem);
}
