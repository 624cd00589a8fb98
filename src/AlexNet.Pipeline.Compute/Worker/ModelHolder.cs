using AlexNet.Model.Inference;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// A classifier on its devices, shared by the runs that use it. The holder keeps one reference while the model is
/// current, each run one more; the network is disposed when the last of them lets go, so a swap never pulls a
/// model out from under a run.
/// </summary>
public sealed class LoadedModel
{
    private int references = 1;

    internal LoadedModel(Classifier classifier) => Classifier = classifier;

    public Classifier Classifier { get; }

    public string Version => Classifier.Manifest.Version;

    /// <summary>Whether the network has been disposed (swapped out and no run held it).</summary>
    public bool IsDisposed => Volatile.Read(ref references) == 0;

    internal bool TryRetain()
    {
        int seen = Volatile.Read(ref references);
        while (seen > 0)
        {
            int before = Interlocked.CompareExchange(ref references, seen + 1, seen);
            if (before == seen)
                return true;
            seen = before;
        }
        return false;
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref references) == 0)
            Classifier.Dispose();
    }
}

/// <summary>A run's hold on the current model; dispose it when the run is over.</summary>
public sealed class ModelLease(LoadedModel model) : IDisposable
{
    private int released;

    public LoadedModel Model => model;

    public Classifier Classifier => model.Classifier;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref released, 1) == 0)
            model.Release();
    }
}

/// <summary>
/// Holds the promoted model on the worker's devices and swaps in a newly promoted one when asked
/// (<see cref="RefreshAsync"/>, which the label loop calls between batches). A version that fails to load is logged
/// once and the current model kept. One that is refused for what it is (bad SHA-256, a manifest out of bounds or in
/// another version's folder) is not tried again while the pointer names it; one that failed otherwise (storage
/// unreachable, weights not there yet) is retried each poll.
/// </summary>
public sealed partial class ModelHolder(ModelRegistry registry, DevicePlacement placement, TimeProvider time, ILogger<ModelHolder> logger) : IDisposable
{
    private readonly Lock gate = new();
    private LoadedModel? current;
    private string? failedVersion;
    private string? refusedVersion;
    private bool disposed;

    public DevicePlacement Placement => placement;

    public LoadedModel? Current
    {
        get
        {
            lock (gate)
                return current;
        }
    }

    public bool IsLoaded => Current is not null;

    public string? CurrentVersion => Current?.Version;

    /// <summary>
    /// The promoted version that failed to load, or null when the last load worked: retried each refresh, or, when its
    /// package was refused for what it holds, not again while the pointer names it.
    /// </summary>
    public string? FailedVersion
    {
        get
        {
            lock (gate)
                return failedVersion;
        }
    }

    /// <summary>Holds the current model for one run.</summary>
    /// <exception cref="InvalidOperationException">No model is loaded yet.</exception>
    public ModelLease Acquire()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (current is null || !current.TryRetain())
                throw new InvalidOperationException("no model is loaded yet; wait for one with WaitForModelAsync");
            return new ModelLease(current);
        }
    }

    /// <summary>Waits, polling every <paramref name="pollInterval"/>, until a model is promoted and loaded.</summary>
    public async Task<LoadedModel> WaitForModelAsync(TimeSpan pollInterval, CancellationToken cancellationToken = default)
    {
        long started = time.GetTimestamp();
        while (true)
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
            if (Current is { } model)
                return model;
            LogWaitingForModel(logger, time.GetElapsedTime(started).TotalSeconds, pollInterval.TotalSeconds);
            await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads <c>models/current.json</c>; when it names a version other than the loaded one (a promotion or a
    /// rollback), loads that version (SHA-256 checked, its manifest the one pinned at promotion) onto the devices and
    /// makes it current. True if it swapped.
    /// </summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken = default)
    {
        string? wanted = null;
        try
        {
            CurrentModelPointer? pointer = await registry.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
            wanted = pointer?.Version;
            string? loaded = CurrentVersion;
            if (pointer is null || wanted == loaded || wanted == refusedVersion)
                return false;

            ModelPackage package = await registry.LoadPinnedAsync(pointer, cancellationToken).ConfigureAwait(false);
            if (!package.Manifest.IsSealed)
                LogModelUnsealed(logger, pointer.Version);
            long started = time.GetTimestamp();
            var classifier = new Classifier(package, placement.Layout, placement.TorchDevices());
            var model = new LoadedModel(classifier);
            LoadedModel? previous;
            lock (gate)
            {
                if (disposed)
                {
                    model.Release();
                    return false;
                }
                previous = current;
                current = model;
                failedVersion = null;
            }
            previous?.Release();
            LogModelLoaded(logger, pointer.Version, placement.ToString(), loaded ?? "none", time.GetElapsedTime(started).TotalSeconds);
            return true;
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Logged once per version, then quietly retried each poll: a fixed upload or a rollback clears it.
            if (wanted is null || wanted != failedVersion)
                LogModelLoadFailed(logger, error, wanted ?? "(current.json unreadable)", CurrentVersion ?? "none");
            lock (gate)
                failedVersion = wanted;
            if (error is ModelIntegrityException or InvalidDataException)
                refusedVersion = wanted;
            return false;
        }
    }

    public void Dispose()
    {
        LoadedModel? last;
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            last = current;
            current = null;
        }
        last?.Release();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Version} is loaded ({Placement}), replacing {Previous}; {Seconds:F1} s to build")]
    private static partial void LogModelLoaded(ILogger logger, string version, string placement, string previous, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Version} could not be loaded; keeping {Current}")]
    private static partial void LogModelLoadFailed(ILogger logger, Exception error, string version, string current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Version} has no manifest SHA-256 (packaged before it was recorded): its weights are checked, its manifest fields are not")]
    private static partial void LogModelUnsealed(ILogger logger, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No model is promoted yet (models/current.json); waited {Seconds:F0} s, looking again in {Interval:F0} s")]
    private static partial void LogWaitingForModel(ILogger logger, double seconds, double interval);
}
