using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using AlexNet.Imaging;
using AlexNet.Model.Inference;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker;

/// <summary>What one round of messages came to.</summary>
public sealed record LabelRoundResult(int Completed, int Abandoned, int DeadLettered, int LockLost)
{
    public static LabelRoundResult Empty { get; } = new(0, 0, 0, 0);
}

/// <summary>
/// The label worker's unit of work: a round of received <see cref="LabelRequest"/> messages. Poison messages are
/// dead-lettered at once; the rest are grouped by batch (and crop mode) and each group's images labeled in one
/// <see cref="LabelingEngine"/> run while every message's lock is renewed. A message is completed only once each of
/// its images has a durable outcome (a label or rejected record, or the image is gone) and, for an orchestration
/// chunk, its records file (<see cref="ChunkRecords"/>) and then its <c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.done.json</c>
/// marker are written; otherwise it is abandoned
/// and comes back, and the queue dead-letters it after its maximum delivery count.
/// </summary>
public sealed partial class LabelQueueProcessor
{
    private readonly IBlobStore store;
    private readonly ModelHolder models;
    private readonly ImageDecoder decoder;
    private readonly WorkerOptions options;
    private readonly WorkerTelemetry telemetry;
    private readonly WorkerQueue queue;
    private readonly TimeProvider time;
    private readonly ILoggerFactory loggers;
    private readonly ILogger logger;
    private readonly ConditionalWeakTable<ReceivedMessage, Reading> readings = new();
    private readonly ImageLookup lookup;
    private readonly ChunkOutputs chunks;

    public LabelQueueProcessor(
        IWorkQueueFactory queues,
        IBlobStore store,
        ModelHolder models,
        ImageDecoder decoder,
        IOptions<WorkerOptions> options,
        IOptions<MessagingOptions> messaging,
        WorkerTelemetry telemetry,
        QueueHealth health,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        this.options = options.Value;
        ArgumentNullException.ThrowIfNull(messaging);
        this.store = store;
        this.models = models;
        this.decoder = decoder;
        this.telemetry = telemetry;
        this.time = time;
        this.loggers = loggers;
        logger = loggers.CreateLogger<LabelQueueProcessor>();
        queue = new WorkerQueue(queues.GetQueue(messaging.Value.LabelQueue), health, telemetry, time, logger);
        lookup = new ImageLookup(store, this.options.ReadParallelism, time, logger);
        chunks = new ChunkOutputs(store);
    }

    /// <summary>How long a receive that tops up a round waits: the messages taken so far are not kept waiting.</summary>
    public static readonly TimeSpan TopUpWait = TimeSpan.FromMilliseconds(100);

    /// <summary>The label queue (<c>Messaging:LabelQueue</c>), with the receive and settle steps the train loop shares.</summary>
    public WorkerQueue Queue => queue;

    public ModelHolder Models => models;

    /// <summary>
    /// Waits up to <c>Worker:ReceiveWait</c> for messages and takes up to <c>Worker:MaxMessagesPerReceive</c>; while the
    /// round holds fewer images than one forward batch (<c>Worker:BatchSize</c>) and the queue gives full pages, takes
    /// more at once, so a stream of single-image upload messages is labeled in full batches rather than a few at a time.
    /// Records whether the queue answered.
    /// </summary>
    public async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<ReceivedMessage> page = await queue.ReceiveAsync(options.MaxMessagesPerReceive, options.ReceiveWait, cancellationToken).ConfigureAwait(false);
        var messages = new List<ReceivedMessage>(page);
        int images = 0;
        // Only a full page can be topped up, so only then are its bodies read here (ProcessAsync reads them anyway).
        while (page.Count == options.MaxMessagesPerReceive && (images += page.Sum(ImageCount)) < options.BatchSize && messages.Count < options.BatchSize)
        {
            try
            {
                // Straight from the queue: a top-up that fails says nothing of the queue's health that the first receive did not.
                page = await queue.Queue.ReceiveAsync(options.MaxMessagesPerReceive, TopUpWait, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                // The messages in hand go ahead (or, when stopping, are abandoned by the round): none waits for a lock to lapse.
                LogTopUpStopped(logger, error, Queue.Name, messages.Count);
                break;
            }
            messages.AddRange(page);
        }
        return messages;
    }

    /// <summary>
    /// Handles a round of messages to the end: each one is completed, abandoned or dead-lettered before this returns
    /// (unless its lock was lost, when the queue delivers it again anyway).
    /// </summary>
    /// <param name="stopping">When it fires, groups not started yet are abandoned rather than run.</param>
    /// <param name="abort">Cancels a run in progress; its messages are abandoned (records already written stay, and count next time).</param>
    public async Task<LabelRoundResult> ProcessAsync(IReadOnlyList<ReceivedMessage> messages, CancellationToken stopping = default, CancellationToken abort = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
            return LabelRoundResult.Empty;

        var tally = new Tally();
        var read = new List<(ReceivedMessage Message, ValidLabelRequest Request)>();
        DateTimeOffset now = time.GetUtcNow();
        foreach (ReceivedMessage message in messages)
        {
            telemetry.RecordLag(now - message.EnqueuedAt);
            var (request, error) = Read(message);
            if (request is not null)
                read.Add((message, request));
            else
                await DeadLetterAsync(message, $"invalid label request: {error}", tally).ConfigureAwait(false);
        }

        await using var renewer = new MessageLockRenewer(queue.Queue, read.Select(v => v.Message), options.LockRenewInterval, time, logger);
        var valid = await WithItemsAsync(read, renewer, tally).ConfigureAwait(false);
        var groups = valid.GroupBy(v => (v.Request.Request.Batch, v.Request.CropMode)).ToList();
        foreach (var group in groups)
        {
            var members = group.ToList();
            if (stopping.IsCancellationRequested || abort.IsCancellationRequested)
            {
                LogNotStarted(logger, group.Key.Batch, members.Count);
                foreach (var (message, _) in members)
                    await AbandonAsync(renewer, message, tally).ConfigureAwait(false);
                continue;
            }
            await RunGroupAsync(group.Key.Batch, group.Key.CropMode, members, renewer, tally, abort).ConfigureAwait(false);
        }
        return tally.Result();
    }

    /// <summary>Images a message asks for: its items, a full batch for one sent by reference, 1 for poison (dead-lettered soon).</summary>
    private int ImageCount(ReceivedMessage message)
    {
        ValidLabelRequest? valid = Read(message).Request;
        return valid is null ? 1 : valid.Request.PathsInChunkRequest ? options.BatchSize : Math.Max(valid.Items.Count, 1);
    }

    /// <summary>
    /// A message's request, read once: a round that was topped up read its bodies to count their images, and
    /// <see cref="ProcessAsync"/> takes that reading rather than parsing and checking every body again.
    /// </summary>
    private (ValidLabelRequest? Request, string? Error) Read(ReceivedMessage message) =>
        readings.GetValue(message, m => new Reading(LabelRequestReader.Read(m.Body, options.CropMode))).Value;

    private sealed record Reading((ValidLabelRequest? Request, string? Error) Value);

    /// <summary>
    /// The requests with their items: those sent by reference get them from their chunk request blob. A blob that is
    /// missing or does not match its message makes the message poison; one that cannot be read now abandons it.
    /// </summary>
    private async Task<List<(ReceivedMessage Message, ValidLabelRequest Request)>> WithItemsAsync(
        List<(ReceivedMessage Message, ValidLabelRequest Request)> read, MessageLockRenewer renewer, Tally tally)
    {
        var resolved = await Task.WhenAll(read.Select(async item =>
        {
            LabelRequest request = item.Request.Request;
            if (!request.PathsInChunkRequest)
                return (item, (string?)null, (Exception?)null);
            string name = PipelineNames.ChunkRequestBlob(request.Batch, request.Chunk);
            try
            {
                BlobDownload? download = await store.DownloadAsync(PipelineNames.RunsContainer, name, CancellationToken.None).ConfigureAwait(false);
                if (download is null)
                    return (item, $"its items are in runs/{name}, which does not exist", null);
                ChunkRequestFile? file = ChunkRequestFile.Parse(download.Content);
                if (file is null)
                    return (item, $"runs/{name} is empty", null);
                var (withItems, error) = LabelRequestReader.WithItems(request, file);
                return withItems is null
                    ? (item, $"runs/{name}: {error}", null)
                    : ((item.Message, item.Request with { Request = withItems }), null, null);
            }
            catch (JsonException error)
            {
                return (item, $"runs/{name} is not a chunk request: {error.Message}", null);
            }
            catch (Exception error)
            {
                return (item, null, error);
            }
        })).ConfigureAwait(false);

        var valid = new List<(ReceivedMessage Message, ValidLabelRequest Request)>();
        foreach (var (item, poison, failure) in resolved)
        {
            if (poison is not null)
            {
                await renewer.ReleaseAsync(item.Message).ConfigureAwait(false);
                await DeadLetterAsync(item.Message, $"invalid label request: {poison}", tally).ConfigureAwait(false);
            }
            else if (failure is not null)
            {
                LogPathsUnread(logger, failure, item.Message.MessageId, item.Request.Request.Batch, item.Request.Request.Chunk);
                await AbandonAsync(renewer, item.Message, tally).ConfigureAwait(false);
            }
            else
            {
                valid.Add(item);
            }
        }
        return valid;
    }

    private async Task RunGroupAsync(
        string batch, CropMode cropMode, List<(ReceivedMessage Message, ValidLabelRequest Request)> members, MessageLockRenewer renewer, Tally tally, CancellationToken abort)
    {
        long started = time.GetTimestamp();
        var images = members.SelectMany(m => m.Request.Items.Select(i => (m.Request.Request.Container, i.Path))).Distinct().ToList();
        using Activity? activity = WorkerTelemetry.Source.StartActivity(
            ActivityKind.Consumer, parentContext: default, name: "label batch", links: Links(members.Select(m => m.Request.Request.TraceParent)));
        activity?.SetTag("alexnet.batch", batch);
        activity?.SetTag("alexnet.messages", members.Count);
        activity?.SetTag("alexnet.images", images.Count);

        var outcomes = new ConcurrentDictionary<(string Container, string Path), ItemResult>();
        string modelVersion;
        try
        {
            using ModelLease lease = models.Acquire();
            modelVersion = lease.Model.Version;
            activity?.SetTag("alexnet.model.version", modelVersion);
            var engine = new LabelingEngine(lease.Classifier, store, decoder, options.ToLabelingOptions(cropMode), time, loggers.CreateLogger<LabelingEngine>());
            var found = Channel.CreateUnbounded<ImageRef>(new UnboundedChannelOptions { SingleReader = true });
            using var lookupsDone = CancellationTokenSource.CreateLinkedTokenSource(abort);
            Task lookups = lookup.LookUpAsync(batch, images, ImageLookup.Listed(members.Select(m => m.Request)), found.Writer, outcomes, lookupsDone.Token);
            try
            {
                LabelRunResult result = await engine.RunAsync(batch, new BlobImageSource(store, members[0].Request.Request.Container), found.Reader.ReadAllAsync(abort), null, abort)
                    .ConfigureAwait(false);
                foreach (ItemResult item in result.Items)
                    outcomes[(item.Image.Container, item.Image.Path)] = item;
            }
            finally
            {
                // The engine stops reading on a failure; the lookups must not outlive the run either way.
                await lookupsDone.CancelAsync().ConfigureAwait(false);
                await lookups.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        catch (Exception error)
        {
            if (error is OperationCanceledException && abort.IsCancellationRequested)
                LogRunCut(logger, batch, members.Count);
            else
                LogRunFailed(logger, error, batch, members.Count);
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            foreach (var (message, _) in members)
                await AbandonAsync(renewer, message, tally).ConfigureAwait(false);
            telemetry.RecordRun(0, 0, 0, images.Count, time.GetElapsedTime(started).TotalSeconds);
            return;
        }

        double seconds = time.GetElapsedTime(started).TotalSeconds;
        var counts = Count(images, outcomes);
        // Settled side by side: a round of single-image upload messages is as many queue calls as images.
        await Parallel.ForEachAsync(
            members, new ParallelOptions { MaxDegreeOfParallelism = options.WriteParallelism },
            async (member, _) => await SettleAsync(member.Message, member.Request, outcomes, modelVersion, seconds, renewer, tally).ConfigureAwait(false))
            .ConfigureAwait(false);

        seconds = time.GetElapsedTime(started).TotalSeconds;
        telemetry.RecordRun(counts.Labeled, counts.AlreadyLabeled, counts.Rejected, counts.Failed, seconds);
        activity?.SetTag("alexnet.labeled", counts.Labeled);
        activity?.SetTag("alexnet.already_labeled", counts.AlreadyLabeled);
        activity?.SetTag("alexnet.rejected", counts.Rejected);
        activity?.SetTag("alexnet.vanished", counts.Vanished);
        activity?.SetTag("alexnet.failed", counts.Failed);
        if (counts.Failed > 0)
            activity?.SetStatus(ActivityStatusCode.Error, $"{counts.Failed} image(s) failed");
        LogBatchDone(logger, batch, members.Count, images.Count, counts.Labeled, counts.AlreadyLabeled, counts.Rejected, counts.Vanished, counts.Failed, seconds, modelVersion);
    }

    private async Task SettleAsync(
        ReceivedMessage message, ValidLabelRequest valid, ConcurrentDictionary<(string Container, string Path), ItemResult> outcomes,
        string modelVersion, double seconds, MessageLockRenewer renewer, Tally tally)
    {
        LabelRequest request = valid.Request;
        var paths = valid.Items.Select(i => i.Path).Distinct(StringComparer.Ordinal).Select(p => (request.Container, p)).ToList();
        var counts = Count(paths, outcomes);
        if (counts.Failed > 0)
        {
            string first = paths.Select(p => outcomes.GetValueOrDefault(p)).FirstOrDefault(r => r is null || r.Outcome == LabelOutcome.Failed)?.Detail ?? "no outcome";
            LogMessageFailed(logger, message.MessageId, request.Batch, request.Chunk, counts.Failed, paths.Count, first, message.DeliveryCount);
            await AbandonAsync(renewer, message, tally).ConfigureAwait(false);
            return;
        }

        if (!request.IsIngest)
        {
            var done = new ChunkDone(
                request.Batch, request.Chunk, paths.Count, counts.Labeled, counts.AlreadyLabeled, counts.Rejected, 0, seconds,
                modelVersion, options.WorkerName, time.GetUtcNow(), counts.Vanished);
            try
            {
                await chunks.WriteAsync(request, paths, outcomes, done).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                LogMarkerFailed(logger, error, request.Batch, request.Chunk);
                await AbandonAsync(renewer, message, tally).ConfigureAwait(false);
                return;
            }
        }
        await CompleteAsync(renewer, message, tally).ConfigureAwait(false);
    }

    private static (int Labeled, int AlreadyLabeled, int Rejected, int Vanished, int Failed) Count(
        IEnumerable<(string Container, string Path)> paths, ConcurrentDictionary<(string Container, string Path), ItemResult> outcomes)
    {
        int labeled = 0, already = 0, rejected = 0, vanished = 0, failed = 0;
        foreach (var path in paths)
        {
            switch (outcomes.TryGetValue(path, out ItemResult? result) ? result.Outcome : LabelOutcome.Failed)
            {
                case LabelOutcome.Labeled: labeled++; break;
                case LabelOutcome.AlreadyLabeled: already++; break;
                case LabelOutcome.Rejected: rejected++; break;
                case LabelOutcome.Vanished: vanished++; break;
                default: failed++; break;
            }
        }
        return (labeled, already, rejected, vanished, failed);
    }

    private async Task CompleteAsync(MessageLockRenewer renewer, ReceivedMessage message, Tally tally)
    {
        // Not completed means delivered again; the records and marker are written, so that delivery is a no-op.
        if (await ReleaseAsync(renewer, message, tally).ConfigureAwait(false))
            tally.Settled(await queue.CompleteAsync(message).ConfigureAwait(false), ref tally.Completed);
    }

    private async Task AbandonAsync(MessageLockRenewer renewer, ReceivedMessage message, Tally tally)
    {
        if (await ReleaseAsync(renewer, message, tally).ConfigureAwait(false))
            tally.Settled(await queue.AbandonAsync(message).ConfigureAwait(false), ref tally.Abandoned);
    }

    private async Task DeadLetterAsync(ReceivedMessage message, string reason, Tally tally) =>
        tally.Settled(await queue.DeadLetterAsync(message, reason).ConfigureAwait(false), ref tally.DeadLettered);

    /// <summary>Stops renewing; false (and counted) when the lock was already found lost, so there is nothing to settle.</summary>
    private static async Task<bool> ReleaseAsync(MessageLockRenewer renewer, ReceivedMessage message, Tally tally)
    {
        await renewer.ReleaseAsync(message).ConfigureAwait(false);
        if (!renewer.IsLost(message))
            return true;
        Interlocked.Increment(ref tally.LockLost);
        return false;
    }

    private static IEnumerable<ActivityLink> Links(IEnumerable<string?> traceParents)
    {
        foreach (string? traceParent in traceParents.Distinct(StringComparer.Ordinal))
        {
            if (traceParent is not null && ActivityContext.TryParse(traceParent, null, out ActivityContext context))
                yield return new ActivityLink(context);
        }
    }

    private sealed class Tally
    {
        public int Completed;
        public int Abandoned;
        public int DeadLettered;
        public int LockLost;

        /// <summary>Counts a settlement: in <paramref name="counter"/> when the queue took it, as a lost lock when it refused.</summary>
        public void Settled(bool taken, ref int counter) => Interlocked.Increment(ref taken ? ref counter : ref LockLost);

        public LabelRoundResult Result() => new(Completed, Abandoned, DeadLettered, LockLost);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {Batch}: {Messages} message(s), {Images} image(s): {Labeled} labeled, {Already} already labeled, {Rejected} rejected, {Vanished} vanished, {Failed} failed in {Seconds:F2} s with model {Model}")]
    private static partial void LogBatchDone(ILogger logger, string batch, int messages, int images, int labeled, int already, int rejected, int vanished, int failed, double seconds, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} (batch {Batch}, chunk {Chunk}) abandoned: {Failed} of {Images} image(s) failed, first: {Detail} (delivery {DeliveryCount})")]
    private static partial void LogMessageFailed(ILogger logger, string messageId, string batch, string chunk, int failed, int images, string detail, int deliveryCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Labeling run of batch {Batch} failed; abandoning its {Messages} message(s)")]
    private static partial void LogRunFailed(ILogger logger, Exception error, string batch, int messages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Labeling run of batch {Batch} was cut short by shutdown; abandoning its {Messages} message(s) for redelivery")]
    private static partial void LogRunCut(ILogger logger, string batch, int messages);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: batch {Batch} not started, abandoning its {Messages} message(s) for redelivery")]
    private static partial void LogNotStarted(ILogger logger, string batch, int messages);

    [LoggerMessage(Level = LogLevel.Error, Message = "Chunk records or marker of batch {Batch}, chunk {Chunk} could not be written; abandoning the message")]
    private static partial void LogMarkerFailed(ILogger logger, Exception error, string batch, string chunk);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} (batch {Batch}, chunk {Chunk}) abandoned: its chunk request blob could not be read")]
    private static partial void LogPathsUnread(ILogger logger, Exception error, string messageId, string batch, string chunk);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Topping up a round from {Queue} stopped; going ahead with {Messages} message(s)")]
    private static partial void LogTopUpStopped(ILogger logger, Exception error, string queue, int messages);
}
