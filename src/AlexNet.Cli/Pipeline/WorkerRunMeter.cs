using System.Diagnostics.Metrics;
using AlexNet.Pipeline.Worker;

namespace AlexNet.Cli.Pipeline;

/// <summary>
/// The worker's own time, from its instruments in this process: images labeled (<c>alexnet.worker.images.labeled</c>)
/// and the seconds of its runs (<c>alexnet.worker.batch.duration</c>, a run's start to its messages settled). The
/// worker handles one round at a time, so the runs' seconds added up are the time it spent labeling: its throughput
/// without the waits for messages and the orchestration around it.
/// </summary>
internal sealed class WorkerRunMeter : IDisposable
{
    private const string LabeledInstrument = "alexnet.worker.images.labeled";
    private const string DurationInstrument = "alexnet.worker.batch.duration";

    private readonly MeterListener listener = new();
    private long labeled;
    private long durationTicks;

    public WorkerRunMeter()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WorkerTelemetry.MeterName && instrument.Name is LabeledInstrument or DurationInstrument)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == LabeledInstrument)
                Interlocked.Add(ref labeled, value);
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == DurationInstrument)
                Interlocked.Add(ref durationTicks, TimeSpan.FromSeconds(value).Ticks);
        });
        listener.Start();
    }

    /// <summary>Images labeled and seconds of runs so far.</summary>
    public (long Labeled, double Seconds) Snapshot() => (Interlocked.Read(ref labeled), TimeSpan.FromTicks(Interlocked.Read(ref durationTicks)).TotalSeconds);

    public void Dispose() => listener.Dispose();
}
