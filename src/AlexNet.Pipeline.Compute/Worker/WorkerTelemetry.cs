using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// The worker's instruments on meter <see cref="MeterName"/> and its spans on activity source <see cref="SourceName"/>.
/// ServiceDefaults exports both over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public sealed class WorkerTelemetry
{
    public const string MeterName = "AlexNet.Pipeline.Worker";
    public const string SourceName = "AlexNet.Pipeline.Worker";

    /// <summary>How long after its last run the worker's rate still counts; then it reads 0 (idle).</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    public static readonly ActivitySource Source = new(SourceName);

    private readonly TimeProvider time;
    private readonly Counter<long> labeled;
    private readonly Counter<long> alreadyLabeled;
    private readonly Counter<long> rejected;
    private readonly Counter<long> failed;
    private readonly Counter<long> deadLettered;
    private readonly Counter<long> completed;
    private readonly Counter<long> abandoned;
    private readonly Histogram<double> batchDuration;
    private readonly Histogram<double> queueLag;
    private readonly Counter<long> trainJobs;
    private readonly Lock gate = new();
    private double lastRate;
    private long lastRunEnded;

    public WorkerTelemetry(IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        this.time = time;
        Meter meter = meterFactory.Create(MeterName);
        labeled = meter.CreateCounter<long>("alexnet.worker.images.labeled", "{image}", "Images given a new label record.");
        alreadyLabeled = meter.CreateCounter<long>("alexnet.worker.images.already_labeled", "{image}", "Images whose record for this model and content existed (redeliveries, re-runs).");
        rejected = meter.CreateCounter<long>("alexnet.worker.images.rejected", "{image}", "Images refused by the decoder, each with a rejected record.");
        failed = meter.CreateCounter<long>("alexnet.worker.images.failed", "{image}", "Images without a durable outcome; their messages are abandoned and redelivered.");
        deadLettered = meter.CreateCounter<long>("alexnet.worker.messages.dead_lettered", "{message}", "Messages moved to the dead letters by the worker (unparseable or invalid).");
        completed = meter.CreateCounter<long>("alexnet.worker.messages.completed", "{message}", "Messages completed after all their records were written.");
        abandoned = meter.CreateCounter<long>("alexnet.worker.messages.abandoned", "{message}", "Messages released for redelivery.");
        batchDuration = meter.CreateHistogram<double>("alexnet.worker.batch.duration", "s", "Time from the start of a batch's run to its messages being settled.");
        queueLag = meter.CreateHistogram<double>("alexnet.worker.queue.lag", "s", "Time from a message being enqueued to its receipt by the worker.");
        trainJobs = meter.CreateCounter<long>("alexnet.worker.train.jobs", "{job}", "Train jobs finished, by outcome.");
        meter.CreateObservableGauge("alexnet.worker.images.rate", ObserveRate, "{image}/s", "Images labeled per second by the latest run; 0 after a minute idle.");
    }

    public void RecordLag(TimeSpan lag) => queueLag.Record(Math.Max(0, lag.TotalSeconds));

    // No batch tag: batch ids are unbounded, and every distinct tag value is a time series. Spans carry the batch.
    public void RecordRun(int labeledCount, int alreadyCount, int rejectedCount, int failedCount, double seconds)
    {
        labeled.Add(labeledCount);
        alreadyLabeled.Add(alreadyCount);
        rejected.Add(rejectedCount);
        failed.Add(failedCount);
        batchDuration.Record(seconds);
        lock (gate)
        {
            lastRate = seconds > 0 ? labeledCount / seconds : 0;
            lastRunEnded = time.GetTimestamp();
        }
    }

    public void MessageDeadLettered() => deadLettered.Add(1);

    public void MessageCompleted() => completed.Add(1);

    public void MessageAbandoned() => abandoned.Add(1);

    public void TrainJobFinished(bool succeeded) => trainJobs.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));

    private double ObserveRate()
    {
        lock (gate)
            return lastRunEnded != 0 && time.GetElapsedTime(lastRunEnded) <= RateWindow ? lastRate : 0;
    }
}
