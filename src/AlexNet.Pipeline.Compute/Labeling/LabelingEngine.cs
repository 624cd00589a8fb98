using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using AlexNet.Imaging;
using AlexNet.Model.Inference;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace AlexNet.Pipeline.Labeling;

public enum LabelOutcome
{
    Labeled,
    AlreadyLabeled,
    Rejected,
    Vanished,
    Failed,
}

/// <summary>What became of one image; the record that stands for it when there is one.</summary>
public sealed record ItemResult(ImageRef Image, LabelOutcome Outcome, string? Detail = null)
{
    /// <summary>The label record that stands for the image: the one written (<see cref="LabelOutcome.Labeled"/>) or found (<see cref="LabelOutcome.AlreadyLabeled"/>).</summary>
    public LabelRecord? Label { get; init; }

    /// <summary>The rejected record that stands for the image (<see cref="LabelOutcome.Rejected"/>): the one written, or the one of this very upload found there.</summary>
    public RejectedRecord? Rejection { get; init; }
}

public sealed record LabelProgress(int Seen, int Labeled, int AlreadyLabeled, int Rejected, int Failed, TimeSpan Elapsed);

public sealed record LabelRunResult(LabelRunStatistics Statistics, IReadOnlyList<ItemResult> Items);

/// <summary>
/// Labels a stream of images with a model's top-5 classes. Reading and decoding run in parallel, the forward pass
/// runs on one thread in batches, and records are written in parallel; bounded channels between the stages keep
/// memory flat and let the forward pass run while the next batch is decoded. Every write is idempotent: the key
/// is (image content, model version), so a repeated run or a redelivered message writes nothing new.
/// </summary>
public sealed partial class LabelingEngine(
    Classifier classifier,
    IBlobStore output,
    ImageDecoder decoder,
    LabelingOptions options,
    TimeProvider time,
    ILogger<LabelingEngine> logger)
{
    private sealed record Fetched(ImageRef Image, ImageIdentity Identity, BinaryData Content, string? ExistingRecordETag, IDisposable Bytes);

    private sealed record Decoded(ImageRef Image, ImageIdentity Identity, RgbImage Pixels, string? ExistingRecordETag);

    private sealed record Scored(Decoded Item, ClassScores Scores);

    public Classifier Classifier => classifier;

    /// <summary>Labels the given images (or every image of the source) into <c>labels/&lt;batch&gt;/</c>.</summary>
    public async Task<LabelRunResult> RunAsync(
        string batch,
        IImageSource source,
        IAsyncEnumerable<ImageRef>? images = null,
        IProgress<LabelProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        LabelPaths.ValidateBatch(batch);
        images ??= source.ListAsync(cancellationToken);
        long started = time.GetTimestamp();
        var counters = new Counters();
        var results = new List<ItemResult>();
        var forward = new Stopwatch();
        var budget = new ByteBudget(options.MaxBytesInFlight);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = cancel.Token;

        var refs = Channel.CreateBounded<ImageRef>(new BoundedChannelOptions(options.BatchSize * 2) { SingleWriter = true });
        var fetched = Channel.CreateBounded<Fetched>(new BoundedChannelOptions(options.BatchSize * 2));
        var decoded = Channel.CreateBounded<Decoded>(new BoundedChannelOptions(options.BatchSize * 2) { SingleReader = true });
        var scored = Channel.CreateBounded<Scored>(new BoundedChannelOptions(options.BatchSize * 2) { SingleWriter = true });

        void Record(ItemResult result)
        {
            lock (results)
                results.Add(result);
            counters.Add(result.Outcome);
            progress?.Report(counters.Snapshot(time.GetElapsedTime(started)));
        }

        async Task ListAsync()
        {
            try
            {
                await foreach (ImageRef image in images.WithCancellation(token).ConfigureAwait(false))
                    await refs.Writer.WriteAsync(image, token).ConfigureAwait(false);
            }
            finally
            {
                refs.Writer.TryComplete();
            }
        }

        // Reads wait on storage (many at once); decodes use the CPU (about one per core). Each stage records the items
        // it finishes and passes the rest on, then completes its output so the next stage drains and ends.
        async Task StageAsync<TIn, TOut>(ChannelReader<TIn> input, ChannelWriter<TOut> output, int parallelism, Func<TIn, CancellationToken, Task<ItemResult?>> work)
        {
            try
            {
                await Parallel.ForEachAsync(
                    input.ReadAllAsync(token),
                    new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = token },
                    async (item, ct) =>
                    {
                        if (await work(item, ct).ConfigureAwait(false) is { } done)
                            Record(done);
                    }).ConfigureAwait(false);
            }
            finally
            {
                output.TryComplete();
            }
        }

        async Task InferAsync()
        {
            try
            {
                var pending = new List<Decoded>(options.BatchSize);
                while (await decoded.Reader.WaitToReadAsync(token).ConfigureAwait(false))
                {
                    pending.Clear();
                    await FillBatchAsync(decoded.Reader, pending, token).ConfigureAwait(false);
                    if (pending.Count == 0)
                        continue;
                    forward.Start();
                    IReadOnlyList<ClassScores> scores = Classify(pending);
                    forward.Stop();
                    for (int i = 0; i < pending.Count; i++)
                        await scored.Writer.WriteAsync(new Scored(pending[i], scores[i]), token).ConfigureAwait(false);
                }
            }
            finally
            {
                scored.Writer.TryComplete();
            }
        }

        async Task WriteAsync() =>
            await Parallel.ForEachAsync(
                scored.Reader.ReadAllAsync(token),
                new ParallelOptions { MaxDegreeOfParallelism = options.WriteParallelism, CancellationToken = token },
                async (item, ct) => Record(await WriteRecordAsync(batch, source, item, ct).ConfigureAwait(false))).ConfigureAwait(false);

        Task[] stages =
        [
            ListAsync(),
            StageAsync(refs.Reader, fetched.Writer, options.ReadParallelism, (image, ct) => FetchOneAsync(batch, source, image, fetched.Writer, budget, ct)),
            StageAsync(fetched.Reader, decoded.Writer, options.DecodeParallelism, (item, ct) => DecodeOneAsync(batch, item, decoded.Writer, ct)),
            Task.Run(InferAsync, token),
            WriteAsync(),
        ];
        try
        {
            await Task.WhenAll(stages).ConfigureAwait(false);
        }
        catch
        {
            // One failed stage stops the others; the first real error is the one to report.
            await cancel.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(stages.Select(s => s.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default))).ConfigureAwait(false);
            Exception? first = stages.Select(s => s.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException);
            cancellationToken.ThrowIfCancellationRequested();
            if (first is not null)
                throw first;
            throw;
        }

        double seconds = time.GetElapsedTime(started).TotalSeconds;
        var snapshot = counters.Snapshot(TimeSpan.FromSeconds(seconds));
        var statistics = new LabelRunStatistics(
            snapshot.Seen, snapshot.Labeled, snapshot.AlreadyLabeled, snapshot.Rejected, snapshot.Failed,
            seconds, seconds > 0 ? snapshot.Labeled / seconds : 0, forward.Elapsed.TotalSeconds, counters.Vanished);
        LogRunFinished(logger, batch, statistics.Seen, statistics.Labeled, statistics.AlreadyLabeled, statistics.Rejected, statistics.Vanished, statistics.Failed, statistics.ImagesPerSecond);
        return new LabelRunResult(statistics, results);
    }

    private async Task FillBatchAsync(ChannelReader<Decoded> reader, List<Decoded> pending, CancellationToken token)
    {
        while (pending.Count < options.BatchSize && reader.TryRead(out Decoded? item))
            pending.Add(item);
        if (pending.Count == options.BatchSize || reader.Completion.IsCompleted || options.BatchLinger <= TimeSpan.Zero)
            return;

        // Wait briefly for a fuller batch: a half-empty forward pass wastes the device.
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(token);
        linger.CancelAfter(options.BatchLinger);
        try
        {
            while (pending.Count < options.BatchSize && await reader.WaitToReadAsync(linger.Token).ConfigureAwait(false))
            {
                while (pending.Count < options.BatchSize && reader.TryRead(out Decoded? item))
                    pending.Add(item);
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            // The linger ran out: go with what we have.
        }
    }

    private IReadOnlyList<ClassScores> Classify(List<Decoded> pending)
    {
        using var scope = NewDisposeScope();
        Tensor packed = ImageTensors.Pack(pending.Select(p => (ReadOnlyMemory<byte>)p.Pixels.Pixels).ToArray(), classifier.Manifest.BaseSize);
        return classifier.Classify(packed, options.CropMode);
    }

    /// <summary>
    /// Checks one image's records and reads it; returns a result unless the image goes on to be decoded. One conditional,
    /// ranged request reads it: one replaced since it was queued is not the one to label (its new version is ingested on
    /// its own) and is not downloaded; the response's size comes before its content, so an image over the byte limit is
    /// rejected without reading it, and the content is read only once the run's <see cref="ByteBudget"/> has room.
    /// </summary>
    private async Task<ItemResult?> FetchOneAsync(string batch, IImageSource source, ImageRef image, ChannelWriter<Fetched> next, ByteBudget budget, CancellationToken token)
    {
        IDisposable? reservation = null;
        try
        {
            string modelVersion = classifier.Manifest.Version;
            var existing = image.NoRecordListed ? null : await ReadRecordAsync(batch, image.RecordKey, token).ConfigureAwait(false);
            if (existing is { Record: var seen } && seen.Image.ETag == image.ETag && seen.Model.Version == modelVersion)
                return new ItemResult(image, LabelOutcome.AlreadyLabeled) { Label = seen };

            // Rejected before in this very version: the verdict stands, and the blob is not downloaded again.
            if (!image.NoRecordListed && existing is null && image.ETag.Length > 0
                && await RejectedRecords.ReadAsync(output, LabelPaths.Record(batch, image.RecordKey), token).ConfigureAwait(false) is { } rejected
                && rejected.Image.ETag == image.ETag)
            {
                return new ItemResult(image, LabelOutcome.Rejected, rejected.Reason) { Rejection = rejected };
            }

            BlobReader? reader;
            try
            {
                reader = await source.OpenReadAsync(image, decoder.Limits.MaxBytes, token).ConfigureAwait(false);
            }
            catch (BlobConflictException)
            {
                return Replaced(image);
            }
            catch (UnreadableImageException unreadable)
            {
                // There, but not an image file to read (a link out of the folder, a FIFO, a folder that cannot be read).
                RejectedRecord unreadableRecord = await WriteRejectedAsync(batch, image.RecordKey, new ImageIdentity(image.Container, image.Path, image.ETag, string.Empty, image.Size), unreadable.Code, unreadable.Reason, token).ConfigureAwait(false);
                return new ItemResult(image, LabelOutcome.Rejected, $"{unreadable.Code}: {unreadable.Reason}") { Rejection = unreadableRecord };
            }
            if (reader is null)
                return new ItemResult(image, LabelOutcome.Vanished, "the image was deleted before it was read");

            BinaryData content;
            ImageRef current;
            await using (reader.ConfigureAwait(false))
            {
                current = image with { ETag = reader.Entry.ETag, Size = reader.Entry.Size };
                if (current.Size > decoder.Limits.MaxBytes)
                {
                    var tooLarge = new ImageRejection(RejectionCode.TooManyBytes, $"The file is {current.Size} bytes, over the {decoder.Limits.MaxBytes}-byte limit.");
                    RejectedRecord tooLargeRecord = await WriteRejectedAsync(batch, current.RecordKey, new ImageIdentity(current.Container, current.Path, current.ETag, string.Empty, current.Size), tooLarge, token).ConfigureAwait(false);
                    return new ItemResult(current, LabelOutcome.Rejected, tooLarge.ToString()) { Rejection = tooLargeRecord };
                }

                reservation = await budget.ReserveAsync(current.Size, token).ConfigureAwait(false);
                content = await reader.ReadAllAsync(token).ConfigureAwait(false);
            }

            var identity = ImageIdentity.Of(current.Container, current.Path, current.ETag, content.ToMemory().Span);
            if (existing is { Record: var previous, ETag: var recordETag } && previous.Covers(identity.Sha256, modelVersion))
            {
                // The same bytes uploaded again get a new ETag: note it, so the ingest sweep sees the upload as labeled.
                LabelRecord standing = previous.Image.ETag == identity.ETag ? previous : previous with { Image = identity };
                if (!ReferenceEquals(standing, previous))
                    await RefreshIdentityAsync(batch, current.RecordKey, standing, recordETag, token).ConfigureAwait(false);
                return new ItemResult(current, LabelOutcome.AlreadyLabeled) { Label = standing };
            }

            await next.WriteAsync(new Fetched(current, identity, content, existing?.ETag, reservation), token).ConfigureAwait(false);
            reservation = null; // the decode stage gives the bytes back
            return null;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogItemFailed(logger, error, image.Path);
            return new ItemResult(image, LabelOutcome.Failed, error.Message);
        }
        finally
        {
            reservation?.Dispose();
        }
    }

    private ItemResult Replaced(ImageRef image)
    {
        LogReplaced(logger, image.Path, image.ETag);
        return new ItemResult(image, LabelOutcome.Vanished, $"the image was replaced after it was queued (as ETag {image.ETag}); its new version is labeled on its own");
    }

    /// <summary>Decodes one image; a bad one gets its rejected record here, a good one goes on to the forward pass.</summary>
    private async Task<ItemResult?> DecodeOneAsync(string batch, Fetched item, ChannelWriter<Decoded> next, CancellationToken token)
    {
        try
        {
            ImageDecodeResult result;
            using (item.Bytes)
                result = decoder.Decode(item.Content.ToMemory().Span, classifier.Manifest.BaseSize);
            if (result.Rejection is { } rejection)
            {
                RejectedRecord record = await WriteRejectedAsync(batch, item.Image.RecordKey, item.Identity, rejection, token).ConfigureAwait(false);
                return new ItemResult(item.Image, LabelOutcome.Rejected, rejection.ToString()) { Rejection = record };
            }

            await next.WriteAsync(new Decoded(item.Image, item.Identity, result.Image!, item.ExistingRecordETag), token).ConfigureAwait(false);
            return null;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogItemFailed(logger, error, item.Image.Path);
            return new ItemResult(item.Image, LabelOutcome.Failed, error.Message);
        }
    }

    private async Task<ItemResult> WriteRecordAsync(string batch, IImageSource source, Scored item, CancellationToken token)
    {
        ImageRef image = item.Item.Image;
        try
        {
            var manifest = classifier.Manifest;
            var record = new LabelRecord(
                batch,
                item.Item.Identity,
                new ModelIdentity(manifest.Version, manifest.WeightsSha256),
                options.CropMode.Name(),
                item.Scores.Classes.Select((c, k) => new LabelScore(manifest.Classes[c], c, item.Scores.Probabilities[k])).ToArray(),
                time.GetUtcNow());
            var content = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord));
            string name = LabelPaths.Record(batch, image.RecordKey);

            bool written = await TryWriteAsync(name, content, record.Image.ETag, item.Item.ExistingRecordETag, token).ConfigureAwait(false);
            if (!written)
            {
                // Someone else wrote this record meanwhile (a racing run or a redelivered message).
                var now = await ReadRecordAsync(batch, image.RecordKey, token).ConfigureAwait(false);
                if (now is { Record: var other } && other.Covers(record.Image.Sha256, manifest.Version))
                    return new ItemResult(image, LabelOutcome.AlreadyLabeled) { Label = other };
                if (!await TryWriteAsync(name, content, record.Image.ETag, now?.ETag, token).ConfigureAwait(false))
                    return new ItemResult(image, LabelOutcome.Failed, "the label record kept changing under concurrent writers");
            }

            if (options.TagSourceImages && source is BlobImageSource blobs)
            {
                var tags = new Dictionary<string, string>
                {
                    ["top1"] = TagValue(record.Top5[0].Label),
                    ["model"] = TagValue(manifest.Version),
                    [LabelTags.Top1Probability] = LabelTags.ProbabilityValue(record.Top5[0].Probability),
                };
                await blobs.Store.SetTagsAsync(image.Container, image.Path, tags, token).ConfigureAwait(false);
            }
            return new ItemResult(image, LabelOutcome.Labeled, record.Top5[0].Label) { Label = record };
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogItemFailed(logger, error, image.Path);
            return new ItemResult(image, LabelOutcome.Failed, error.Message);
        }
    }

    /// <summary>
    /// Create-if-absent for a new record (with the upload version it covers in its metadata, for the ingest sweep),
    /// replace-if-ETag for an outdated one; false if another writer won.
    /// </summary>
    private async Task<bool> TryWriteAsync(string name, BinaryData content, string? imageETag, string? existingETag, CancellationToken token)
    {
        if (existingETag is null)
            return await output.CreateIfAbsentAsync(LabelPaths.LabelsContainer, name, content, "application/json", LabelPaths.RecordMetadata(imageETag), token).ConfigureAwait(false) == CreateOutcome.Created;
        try
        {
            await output.UploadAsync(LabelPaths.LabelsContainer, name, content, "application/json", existingETag, token).ConfigureAwait(false);
            return true;
        }
        catch (BlobConflictException)
        {
            return false;
        }
    }

    private Task<RejectedRecord> WriteRejectedAsync(string batch, string recordPath, ImageIdentity identity, ImageRejection rejection, CancellationToken token) =>
        WriteRejectedAsync(batch, recordPath, identity, rejection.Code.ToString(), rejection.Reason, token);

    /// <summary>Writes the rejected record; returns the one that stands (an earlier record of this very upload stays).</summary>
    private async Task<RejectedRecord> WriteRejectedAsync(string batch, string recordPath, ImageIdentity identity, string code, string reason, CancellationToken token)
    {
        var record = new RejectedRecord(batch, identity, code, reason, time.GetUtcNow());
        var (outcome, previous) = await RejectedRecords.WriteAsync(output, LabelPaths.Record(batch, recordPath), record, token).ConfigureAwait(false);
        return outcome == RejectedWriteOutcome.AlreadyCurrent && previous is not null ? previous : record;
    }

    private async Task RefreshIdentityAsync(string batch, string recordPath, LabelRecord record, string recordETag, CancellationToken token)
    {
        var content = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord));
        // Losing this race is fine: whoever won wrote a record for the same content and model.
        await TryWriteAsync(LabelPaths.Record(batch, recordPath), content, record.Image.ETag, recordETag, token).ConfigureAwait(false);
    }

    private async Task<(LabelRecord Record, string ETag)?> ReadRecordAsync(string batch, string imagePath, CancellationToken token)
    {
        BlobDownload? download = await output.DownloadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, imagePath), token).ConfigureAwait(false);
        if (download is null)
            return null;
        LabelRecord? record = JsonSerializer.Deserialize(download.Content.ToMemory().Span, LabelJsonContext.Default.LabelRecord);
        return record is null ? null : (record, download.Entry.ETag);
    }

    private static string TagValue(string value) => BlobTagRules.ToValue(value);

    private sealed class Counters
    {
        private int seen, labeled, already, rejected, failed, vanished;

        public int Vanished => Volatile.Read(ref vanished);

        public void Add(LabelOutcome outcome)
        {
            Interlocked.Increment(ref seen);
            switch (outcome)
            {
                case LabelOutcome.Labeled: Interlocked.Increment(ref labeled); break;
                case LabelOutcome.AlreadyLabeled: Interlocked.Increment(ref already); break;
                case LabelOutcome.Rejected: Interlocked.Increment(ref rejected); break;
                case LabelOutcome.Vanished: Interlocked.Increment(ref vanished); break;
                default: Interlocked.Increment(ref failed); break;
            }
        }

        public LabelProgress Snapshot(TimeSpan elapsed) =>
            new(Volatile.Read(ref seen), Volatile.Read(ref labeled), Volatile.Read(ref already), Volatile.Read(ref rejected), Volatile.Read(ref failed), elapsed);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {Batch}: {Seen} seen, {Labeled} labeled, {Already} already labeled, {Rejected} rejected, {Vanished} vanished, {Failed} failed, {Rate:F1} img/s")]
    private static partial void LogRunFinished(ILogger logger, string batch, int seen, int labeled, int already, int rejected, int vanished, int failed, double rate);

    [LoggerMessage(Level = LogLevel.Information, Message = "Image {Path} was replaced after it was queued as {ETag}; not labeled in this run")]
    private static partial void LogReplaced(ILogger logger, string path, string etag);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Image {Path} failed and was not labeled")]
    private static partial void LogItemFailed(ILogger logger, Exception error, string path);
}
