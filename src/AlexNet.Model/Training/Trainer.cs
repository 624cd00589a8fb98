using System.Reflection;
using System.Text.Json;
using AlexNet.Model.Data;
using AlexNet.Model.Evaluation;
using AlexNet.Model.Inference;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Model.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Training;

/// <summary>
/// Trains AlexNet on a labeled image set with the paper's recipe: SGD with momentum and weight decay, the
/// plateau schedule, random crops, reflections and PCA colour shifts produced in parallel with the optimiser.
/// Writes into a run folder: <c>checkpoint.zip</c> (every epoch and every N steps), <c>metrics.json</c>, plots,
/// and at the end the model package in <c>model/</c>, holding the weights of the epoch with the best validation.
/// Starts from random weights, or from a trained package's (<see cref="FineTuneAsync"/>, <see cref="TrainingOptions.FineTuneFrom"/>).
/// </summary>
public sealed class Trainer(TrainingOptions options, TimeProvider? timeProvider = null)
{
    public const string ModelFolder = "model";
    public const string MetricsFile = "metrics.json";
    private const int StatisticsSample = 10_000;
    private const int ValidationBatch = 256;

    private readonly TimeProvider time = timeProvider ?? TimeProvider.System;

    public TrainingOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Called after an epoch's last step, before its validation (tests make an epoch worse with it).</summary>
    internal Action<int, AlexNetNetwork>? EpochTrained { get; set; }

    /// <summary>
    /// Trains from random weights, or fine-tunes from the package folder of <see cref="TrainingOptions.FineTuneFrom"/>.
    /// </summary>
    /// <param name="resume">Continue from the run folder's checkpoint (a fresh start if it has none).</param>
    public async Task<TrainingResult> RunAsync(
        ImageDataSet data, string runDirectory, bool resume = false, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        Options.Validate();
        ModelPackage? parent = Options.FineTuneFrom is { } folder ? FineTuning.Load(folder) : null;
        return await RunCoreAsync(data, parent, runDirectory, resume, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Fine-tunes from <paramref name="parent"/>, a package in memory (a worker's, from blob storage): the network starts
    /// from its weights (every layer with the same classes; all but fc8 with others), its input size (it must equal
    /// <see cref="TrainingOptions.InputSize"/>), mean and std, and by default its base size. The result's manifest records
    /// the lineage (<see cref="ModelManifest.FineTunedFrom"/>, and <see cref="ModelManifest.ParentVersion"/> unless the
    /// options name it). A resumed run must be given the same parent.
    /// </summary>
    public async Task<TrainingResult> FineTuneAsync(
        ModelPackage parent, ImageDataSet data, string runDirectory, bool resume = false, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parent);
        Options.Validate();
        if (Options.FineTuneFrom is not null)
            throw new ArgumentException($"the options already name a package to fine-tune from ({Options.FineTuneFrom}); give the parent once");
        return await RunCoreAsync(data, parent, runDirectory, resume, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TrainingResult> RunCoreAsync(
        ImageDataSet data, ModelPackage? parent, string runDirectory, bool resume, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrWhiteSpace(runDirectory);
        if (parent is not null)
            FineTuning.RequireCompatible(parent, Options);
        long started = time.GetTimestamp();
        Directory.CreateDirectory(runDirectory);
        string checkpointPath = Path.Combine(runDirectory, TrainingCheckpoint.FileName);
        bool hasCheckpoint = File.Exists(checkpointPath);
        if (!resume && hasCheckpoint)
            throw new InvalidOperationException($"{runDirectory} already holds a checkpoint: resume it, or train into a new folder");
        TrainingState? saved = resume && hasCheckpoint ? TrainingCheckpoint.ReadState(checkpointPath) : null;

        ImageDataSet limited = Options.LimitPerClass is { } perClass ? data.Limit(perClass) : data;
        if (limited.Classes.Count < 2)
            throw new InvalidDataException($"{data.Source.Description} has {limited.Classes.Count} class folder(s); training needs at least 2");
        string fingerprint = limited.Fingerprint;
        if (saved is not null)
            RequireSameRun(saved, limited, fingerprint, parent);

        DataSplit split = limited.Split(Options.ValidationFraction, Options.Seed);
        int baseSize = Options.BaseSize ?? parent?.Manifest.BaseSize ?? Options.ResolveBaseSize();
        int batchSize = Options.ResolveBatchSize(split.Train.Count);
        if (saved is not null && (saved.BaseSize != baseSize || saved.BatchSize != batchSize))
            throw new InvalidDataException(
                $"the checkpoint was made with base {saved.BaseSize}, batch {saved.BatchSize}; this run would use base {baseSize}, batch {batchSize}: resume with the same options");
        var loader = new BaseImageLoader(limited.Source, baseSize);
        bool cache = Options.CacheImages ?? BaseImageStore.CacheBytes(limited.Items.Count, baseSize) <= Options.CacheBudgetBytes;
        Report(progress, TrainingPhase.Loading, 0, 0, 0, 0, started,
            $"{split.Train.Count} training and {split.Validation.Count} validation images, {limited.Classes.Count} classes, " +
            $"recipe {Options.Recipe.ToString().ToLowerInvariant()}, batch {batchSize}, input {Options.InputSize} from base {baseSize}, " +
            (cache ? "decoding into memory" : "decoding on the fly"));
        BaseImageStore train = await BaseImageStore.CreateAsync(split.Train, loader, cache, Options.DecodeParallelism, cancellationToken).ConfigureAwait(false);
        BaseImageStore validation = await BaseImageStore.CreateAsync(split.Validation, loader, cache, Options.DecodeParallelism, cancellationToken).ConfigureAwait(false);
        // The colour augmentation follows this data (PAPER.md trap 6); the normalisation follows what the weights
        // were trained on: the parent's mean and std when fine-tuning, this data's otherwise.
        ColorStatistics colors;
        float[]? std;
        if (saved is not null)
        {
            colors = new ColorStatistics(saved.Mean, saved.Pca);
            std = saved.Std;
        }
        else
        {
            ColorStatistics own = ColorStatistics.Compute(await train.SampleAsync(StatisticsSample, cancellationToken).ConfigureAwait(false));
            colors = parent is null ? own : own with { Mean = parent.Manifest.Mean };
            std = parent is not null ? parent.Manifest.Std : Options.NormalizeInput ? own.ChannelStd() : null;
        }

        if (Options.TorchThreads > 0)
            torch.set_num_threads(Options.TorchThreads);
        torch.random.manual_seed(Options.Seed);
        using AlexNetNetwork network = AlexNetFactory.Create(FineTuning.NetworkOptions(parent, Options, limited.Classes.Count), Options.TorchDevices());
        using var optimizer = new PaperSgd(network.named_parameters(), Options.Momentum, Options.WeightDecay);
        TrainingState state;
        byte[]? bestWeights = null;
        if (saved is not null)
        {
            (state, bestWeights) = TrainingCheckpoint.Restore(checkpointPath, network, optimizer);
            using Tensor rng = torch.tensor(state.TorchRngState);
            torch.random.set_rng_state(rng);
        }
        else
        {
            FineTuneLineage? lineage = parent is null ? null : FineTuning.CopyWeights(parent, network, limited.Classes);
            int stepsPerEpoch = (split.Train.Count + batchSize - 1) / batchSize;
            state = new TrainingState
            {
                CompletedEpochs = 0,
                StepInEpoch = 0,
                GlobalStep = 0,
                Schedule = new PlateauSchedule
                {
                    LearningRate = Options.LearningRate,
                    PatienceSteps = Math.Max((long)Options.Patience * stepsPerEpoch, Options.MinPatienceSteps),
                    MaxDrops = Options.MaxDrops,
                    WarmupSteps = Options.WarmupSteps,
                },
                Seed = Options.Seed,
                Classes = limited.Classes,
                InputSize = Options.InputSize,
                BaseSize = baseSize,
                BatchSize = batchSize,
                Recipe = Options.Recipe,
                Layout = Options.Layout,
                Mean = colors.Mean,
                Std = std,
                Pca = colors.Pca,
                FineTunedFrom = lineage,
                DataFingerprint = fingerprint,
                Version = Options.Version ?? $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{fingerprint[7..15]}",
                TorchRngState = [],
                History = [],
            };
        }

        var run = new Run(this, network, optimizer, train, validation, colors, checkpointPath, runDirectory, progress, started, state, bestWeights);
        return await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }

    private void RequireSameRun(TrainingState saved, ImageDataSet data, string fingerprint, ModelPackage? parent)
    {
        if (saved.FineTunedFrom is { } from && (parent is null || parent.Manifest.WeightsSha256 != from.WeightsSha256))
            throw new InvalidDataException($"the checkpoint fine-tunes model {from.Version}; resume it from the same package");
        if (saved.FineTunedFrom is null && parent is not null)
            throw new InvalidDataException("the checkpoint was trained from random weights; resume it without a package to fine-tune from");
        if (saved.DataFingerprint != fingerprint)
            throw new InvalidDataException($"the training data changed since the checkpoint (fingerprint {saved.DataFingerprint}, now {fingerprint}); train into a new folder");
        if (!saved.Classes.SequenceEqual(data.Classes, StringComparer.Ordinal))
            throw new InvalidDataException("the classes changed since the checkpoint");
        if (saved.InputSize != Options.InputSize || saved.Layout != Options.Layout || saved.Seed != Options.Seed || saved.Recipe != Options.Recipe)
            throw new InvalidDataException(
                $"the checkpoint was made with input {saved.InputSize}, layout {saved.Layout}, seed {saved.Seed}, recipe {saved.Recipe}; resume with the same options");
    }

    private void Report(IProgress<TrainingProgress>? progress, TrainingPhase phase, int epoch, int step, int steps, double loss, long started, string? message = null) =>
        progress?.Report(new TrainingProgress(phase, epoch, Options.Epochs, step, steps, loss, 0, time.GetElapsedTime(started), null, message));

    /// <summary>The mutable part of one invocation: network, optimiser, state, and where it is written.</summary>
    private sealed class Run(
        Trainer trainer, AlexNetNetwork network, PaperSgd optimizer, BaseImageStore train, BaseImageStore validation,
        ColorStatistics colors, string checkpointPath, string runDirectory, IProgress<TrainingProgress>? progress, long started, TrainingState state,
        byte[]? bestWeights)
    {
        private readonly TrainingOptions options = trainer.Options;
        private readonly TimeProvider time = trainer.time;
        private readonly int resumedAtEpoch = state.CompletedEpochs + 1;
        private readonly int resumedAtStep = state.StepInEpoch;
        private readonly float[]? std = state.Std;
        private long stepsThisInvocation;

        /// <summary>The best epoch's weights in <see cref="WeightsFormat"/>: a CPU copy that holds no tensor.</summary>
        private byte[]? bestWeights = bestWeights;

        public async Task<TrainingResult> ExecuteAsync(CancellationToken cancellationToken)
        {
            var batches = new AugmentedBatches(train, options.InputSize, colors.Pca, state.BatchSize, options.Seed);
            int stepsPerEpoch = batches.StepsPerEpoch;
            TrainingOutcome outcome = TrainingOutcome.Completed;
            EvaluationReport? lastValidation = null;
            try
            {
                while (state.CompletedEpochs < options.Epochs)
                {
                    int epoch = state.CompletedEpochs + 1;
                    bool outOfTime = await TrainEpochAsync(batches, epoch, stepsPerEpoch, cancellationToken).ConfigureAwait(false);
                    if (outOfTime)
                    {
                        outcome = TrainingOutcome.TimeBudgetReached;
                        lastValidation = null;
                        break;
                    }
                    trainer.EpochTrained?.Invoke(epoch, network);
                    (lastValidation, bool converged) = await FinishEpochAsync(epoch, stepsPerEpoch, cancellationToken).ConfigureAwait(false);
                    if (converged)
                    {
                        outcome = TrainingOutcome.Converged;
                        break;
                    }
                    if (OutOfTime())
                    {
                        outcome = state.CompletedEpochs < options.Epochs ? TrainingOutcome.TimeBudgetReached : TrainingOutcome.Completed;
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // A graceful stop keeps every finished step: --resume continues from here.
                SaveCheckpoint(CurrentRng());
                throw;
            }

            // The package gets the best epoch's weights. The checkpoint keeps the last ones, so --resume (or a longer run)
            // continues where training stopped, not from the best epoch.
            EvaluationReport final;
            if (state.Best is null || TrainingCheckpoint.BestIsOwnWeights(state))
            {
                final = lastValidation ?? await ValidateAsync(state.CompletedEpochs + 1, stepsPerEpoch, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                LoadBestWeights();
                final = await ValidateAsync(state.Best.Epoch, stepsPerEpoch, CancellationToken.None).ConfigureAwait(false);
            }
            trainer.Report(progress, TrainingPhase.Packaging, state.CompletedEpochs, 0, stepsPerEpoch, 0, started,
                state.Best is { } best ? $"packaging the weights of epoch {best.Epoch} (best validation top-1 error {best.ValidationTop1Error:P2})" : null);
            string modelDirectory = WritePackage(final);
            WriteMetrics(outcome, final);
            TrainingPlots.WriteConfusion(Path.Combine(runDirectory, TrainingPlots.ConfusionFile), final);
            return new TrainingResult(outcome, state.Version, state.CompletedEpochs, resumedAtEpoch, resumedAtStep, state.History,
                final, modelDirectory, train.Items.Count, validation.Items.Count, train.Rejections.Count + validation.Rejections.Count,
                state.Best?.Epoch, state.FineTunedFrom);
        }

        private void LoadBestWeights()
        {
            Dictionary<string, Tensor> weights = WeightsFormat.Deserialize(bestWeights);
            try
            {
                network.ImportWeights(weights);
            }
            finally
            {
                foreach (Tensor tensor in weights.Values)
                    tensor.Dispose();
            }
        }

        /// <summary>Keeps the network's weights as the best epoch's if this validation beats the best so far.</summary>
        private BestEpoch? KeepIfBest(int epoch, EvaluationReport report)
        {
            if (state.Best is { } best && !best.IsBeatenBy(report.Top1Error, report.Loss))
                return best;
            Dictionary<string, Tensor> weights = network.ExportWeights();
            try
            {
                bestWeights = WeightsFormat.Serialize(weights);
            }
            finally
            {
                foreach (Tensor tensor in weights.Values)
                    tensor.Dispose();
            }
            return new BestEpoch(epoch, report.Top1Error, report.Loss);
        }

        /// <summary>Runs the rest of an epoch; true if the time budget stopped it part-way.</summary>
        private async Task<bool> TrainEpochAsync(AugmentedBatches batches, int epoch, int stepsPerEpoch, CancellationToken cancellationToken)
        {
            network.train();
            double divergenceLimit = options.DivergenceLossFactor * Math.Log(state.Classes.Count);
            long epochStarted = time.GetTimestamp();
            double carriedSeconds = state.Partial.Seconds;
            bool checkpointDue = false;
            await using Prefetched<AugmentedBatch> prefetched = batches.Start(epoch, state.StepInEpoch, options.Prefetch, cancellationToken);
            await foreach (AugmentedBatch batch in prefetched.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // Buffered batches would otherwise keep coming after a cancellation.
                cancellationToken.ThrowIfCancellationRequested();
                if (batch.Count == 0)
                {
                    // Every image of this batch was rejected by the decoder: nothing to learn from, move on.
                    state = state with { StepInEpoch = batch.Step + 1 };
                    continue;
                }

                // A due checkpoint is written only once these weights have given a finite loss on a fresh batch.
                byte[]? rngBefore = checkpointDue ? CurrentRng() : null;
                var (loss, top1, top5) = Forward(batch, out Tensor lossTensor);
                using (lossTensor)
                {
                    if (!double.IsFinite(loss) || loss > divergenceLimit)
                        throw Diverged(epoch, batch.Step, loss);
                    if (rngBefore is not null)
                    {
                        SaveCheckpoint(rngBefore);
                        checkpointDue = false;
                    }
                    lossTensor.backward();
                }
                optimizer.Step(state.Schedule.RateAt(state.GlobalStep));
                stepsThisInvocation++;

                EpochProgress partial = state.Partial;
                double seconds = carriedSeconds + time.GetElapsedTime(epochStarted).TotalSeconds;
                state = state with
                {
                    StepInEpoch = batch.Step + 1,
                    GlobalStep = state.GlobalStep + 1,
                    Partial = new EpochProgress(partial.LossSum + loss * batch.Count, partial.Top1Hits + top1, partial.Top5Hits + top5, partial.Images + batch.Count, seconds),
                };
                ReportStep(epoch, batch.Step + 1, stepsPerEpoch);
                if (options.CheckpointEvery > 0 && state.GlobalStep % options.CheckpointEvery == 0)
                    checkpointDue = true;
                if (OutOfTime() && batch.Step + 1 < stepsPerEpoch)
                {
                    SaveCheckpoint(CurrentRng());
                    return true;
                }
            }
            return false;
        }

        private (double Loss, long Top1, long Top5) Forward(AugmentedBatch batch, out Tensor loss)
        {
            using var scope = NewDisposeScope();
            int side = options.InputSize;
            Device device = network.InputDevice;
            using Tensor packed = torch.tensor(batch.Crops, [batch.Count, side, side, 3]);
            // One preprocessing path for training and inference; the colour shift is on the 0-255 scale, so it is
            // divided by the same std: ((x - mean) + shift) / std.
            Tensor input = ImageTensors.ToNetworkInput(packed.to(device), colors.Mean, std);
            Tensor shift = torch.tensor(batch.ColorShifts, [batch.Count, 3, 1, 1]).to(device);
            input.add_(std is null ? shift : shift.div_(torch.tensor(std, [1, 3, 1, 1]).to(device)));
            Tensor labels = torch.tensor(batch.Labels).to(device);
            // Zeroed in place: with set_to_none each backward allocates fresh gradients, and the old ones stayed
            // alive until finalisation (resident memory grew ~85 MB a step at batch 128 and a full run was OOM-killed).
            network.zero_grad(set_to_none: false);
            Tensor logits = network.call(input);
            loss = nn.functional.cross_entropy(logits, labels).MoveToOuterDisposeScope();
            Tensor hits = logits.detach().topk(Math.Min(5, (int)logits.shape[1]), dim: 1).indexes.eq(labels.view(-1, 1));
            return (loss.item<float>(), hits[.., 0].sum().item<long>(), hits.sum().item<long>());
        }

        private async Task<(EvaluationReport Validation, bool Converged)> FinishEpochAsync(int epoch, int stepsPerEpoch, CancellationToken cancellationToken)
        {
            long validationStarted = time.GetTimestamp();
            EvaluationReport report = await ValidateAsync(epoch, stepsPerEpoch, cancellationToken).ConfigureAwait(false);
            if (!double.IsFinite(report.Loss))
                throw Diverged(epoch, stepsPerEpoch, report.Loss);
            EpochProgress partial = state.Partial;
            double trainSeconds = partial.Seconds;
            double images = Math.Max(1, partial.Images);
            var metrics = new EpochMetrics(
                epoch, stepsPerEpoch, partial.LossSum / images, 1 - partial.Top1Hits / images, 1 - partial.Top5Hits / images,
                report.Loss, report.Top1Error, report.Top5Error, state.Schedule.RateAt(Math.Max(0, state.GlobalStep - 1)),
                partial.Images / Math.Max(trainSeconds, 1e-9), trainSeconds + time.GetElapsedTime(validationStarted).TotalSeconds);
            var (schedule, converged) = state.Schedule.Observe(report.Top1Error, state.GlobalStep);
            state = state with
            {
                CompletedEpochs = epoch,
                StepInEpoch = 0,
                Partial = EpochProgress.Empty,
                Schedule = schedule,
                History = [.. state.History, metrics],
                Best = KeepIfBest(epoch, report),
            };
            SaveCheckpoint(CurrentRng());
            WriteMetrics(null, null);
            trainer.Report(progress, TrainingPhase.Validating, epoch, stepsPerEpoch, stepsPerEpoch, metrics.TrainLoss, started, string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"epoch {epoch}: train loss {metrics.TrainLoss:F4}, top-1 error {metrics.TrainTop1Error:P2}; validation loss {report.Loss:F4}, " +
                $"top-1 error {report.Top1Error:P2}, top-5 error {report.Top5Error:P2}; lr {metrics.LearningRate:G3}; {metrics.ImagesPerSecond:F1} img/s; {metrics.EpochSeconds:F1} s"));
            TrainingPlots.WriteCurves(runDirectory, state.History);
            return (report, converged);
        }

        private async Task<EvaluationReport> ValidateAsync(int epoch, int stepsPerEpoch, CancellationToken cancellationToken)
        {
            trainer.Report(progress, TrainingPhase.Validating, epoch, stepsPerEpoch, stepsPerEpoch, 0, started);
            network.eval();
            try
            {
                var reports = await Evaluator.EvaluateAsync(network, colors.Mean, std, options.InputSize, validation, state.Classes,
                    [CropMode.Center], ValidationBatch, cancellationToken: cancellationToken).ConfigureAwait(false);
                return reports[0];
            }
            finally
            {
                network.train();
            }
        }

        private void SaveCheckpoint(byte[] rng)
        {
            foreach (var (name, parameter) in network.named_parameters())
            {
                using var scope = NewDisposeScope();
                if (!parameter.isfinite().all().item<bool>())
                    throw new TrainingDivergedException($"weights of {name} are not finite; the last good checkpoint is kept");
            }
            trainer.Report(progress, TrainingPhase.Checkpointing, state.CompletedEpochs + 1, state.StepInEpoch, 0, 0, started);
            TrainingCheckpoint.Save(checkpointPath, network, optimizer, state with { TorchRngState = rng, SavedAt = time.GetUtcNow() }, bestWeights);
        }

        private static byte[] CurrentRng()
        {
            using Tensor rng = torch.random.get_rng_state();
            return rng.data<byte>().ToArray();
        }

        private TrainingDivergedException Diverged(int epoch, int step, double loss) => new(
            $"training diverged at epoch {epoch}, step {step}: loss {loss:G4} at learning rate {state.Schedule.LearningRate:G4}. " +
            (File.Exists(checkpointPath) ? $"The last good checkpoint ({checkpointPath}) is kept" : "No checkpoint had been written") +
            "; no model was written. Try a lower --lr, or check the data.");

        private bool OutOfTime() => options.MaxDuration is { } budget && time.GetElapsedTime(started) >= budget;

        private void ReportStep(int epoch, int step, int stepsPerEpoch)
        {
            if (progress is null)
                return;
            TimeSpan elapsed = time.GetElapsedTime(started);
            long remainingSteps = (long)(options.Epochs - epoch) * stepsPerEpoch + (stepsPerEpoch - step);
            TimeSpan? remaining = stepsThisInvocation > 0 ? elapsed / stepsThisInvocation * remainingSteps : null;
            EpochProgress partial = state.Partial;
            progress.Report(new TrainingProgress(TrainingPhase.Training, epoch, options.Epochs, step, stepsPerEpoch,
                partial.LossSum / Math.Max(1, partial.Images), partial.Images / Math.Max(partial.Seconds, 1e-9), elapsed, remaining));
        }

        private string WritePackage(EvaluationReport validation)
        {
            var manifest = new ModelManifest
            {
                Version = state.Version,
                ParentVersion = options.ParentVersion ?? state.FineTunedFrom?.Version,
                FineTunedFrom = state.FineTunedFrom,
                Classes = state.Classes,
                InputSize = options.InputSize,
                BaseSize = state.BaseSize,
                Mean = colors.Mean,
                Std = std,
                Pca = colors.Pca,
                WeightsSha256 = "pending",
                TrainingDataFingerprint = state.DataFingerprint,
                CreatedAt = time.GetUtcNow(),
                CodeVersion = typeof(Trainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
                Metrics = new Dictionary<string, double>
                {
                    ["epochs"] = state.CompletedEpochs,
                    ["best_epoch"] = state.Best?.Epoch ?? 0,
                    ["train_images"] = train.Items.Count,
                    ["validation_images"] = validation.Images,
                    ["validation_top1_error"] = validation.Top1Error,
                    ["validation_top5_error"] = validation.Top5Error,
                    ["validation_loss"] = validation.Loss,
                    ["learning_rate"] = state.Schedule.LearningRate,
                    ["batch_size"] = state.BatchSize,
                    ["steps"] = state.GlobalStep,
                },
            };
            string directory = Path.Combine(runDirectory, ModelFolder);
            ModelPackage.Create(manifest, network).SaveDirectory(directory);
            return directory;
        }

        private void WriteMetrics(TrainingOutcome? outcome, EvaluationReport? final)
        {
            var metrics = new RunMetrics(state.Version, outcome?.ToString() ?? "Running", state.Best?.Epoch, state.History, final);
            AtomicFile.Write(Path.Combine(runDirectory, MetricsFile), JsonSerializer.SerializeToUtf8Bytes(metrics, TrainingJsonContext.Default.RunMetrics));
        }
    }
}
