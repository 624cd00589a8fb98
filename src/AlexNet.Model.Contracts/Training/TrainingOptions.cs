using AlexNet.Model.Network;

namespace AlexNet.Model.Training;

/// <summary>A named set of training defaults.</summary>
public enum TrainingRecipe
{
    /// <summary>
    /// The paper's optimiser, schedule and augmentation, with what makes it learn on sets of any size: variance-scaling
    /// init, a warm-up, patience of at least <see cref="TrainingOptions.MinPatienceSteps"/> steps, a batch bounded by
    /// the set's size (docs/training.md has the measurements).
    /// </summary>
    Default,

    /// <summary>The paper as written: N(0, 0.01) weights, biases 1, batch 128, patience 3 epochs, no warm-up.</summary>
    Paper,
}

/// <summary>
/// How to train: the one source of training defaults for <c>alexnet train</c>, the Retrain orchestration, the train
/// job and the bench. Property defaults are <see cref="TrainingRecipe.Default"/>; <see cref="For"/> gives either recipe.
/// Null sizes are decided from the data (<see cref="ResolveBatchSize"/>) or the input size (<see cref="ResolveBaseSize"/>).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>The paper's base-to-crop ratio: 224 crops of 256 images.</summary>
    public const double BaseToInputRatio = 256.0 / 224.0;

    /// <summary>The largest batch the default recipe picks, the paper's.</summary>
    public const int MaxAutoBatchSize = 128;

    /// <summary>The smallest batch the default recipe picks.</summary>
    public const int MinAutoBatchSize = 16;

    /// <summary>The default recipe aims for at least this many steps an epoch (a power-of-two batch at or below images / this).</summary>
    public const int AutoBatchStepsPerEpoch = 32;

    public TrainingRecipe Recipe { get; init; } = TrainingRecipe.Default;
    public int Epochs { get; init; } = 90;

    /// <summary>Images per step; null: <see cref="ResolveBatchSize"/> from the number of training images.</summary>
    public int? BatchSize { get; init; }

    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Epochs without a better validation error before the rate is divided by 10 (the paper's plateau).</summary>
    public int Patience { get; init; } = 3;

    /// <summary>The plateau is at least this many optimiser steps, however short an epoch is.</summary>
    public int MinPatienceSteps { get; init; } = 400;

    /// <summary>Steps over which the rate ramps up from a tenth to <see cref="LearningRate"/>.</summary>
    public int WarmupSteps { get; init; } = 100;

    public WeightInit Init { get; init; } = WeightInit.VarianceScaling;

    /// <summary>
    /// Divide every input by the training set's per-channel standard deviation after subtracting its mean (kept in the
    /// manifest as <c>std</c>). The paper subtracts the mean only, and its 0-255 inputs make conv1's gradients about
    /// 90 times its weights' scale larger than a unit-scale input would.
    /// </summary>
    public bool NormalizeInput { get; init; } = true;

    public int MaxDrops { get; init; } = 3;
    public int Seed { get; init; } = 1;
    public int InputSize { get; init; } = 224;

    /// <summary>
    /// Side of the base image crops come from; null: <see cref="ResolveBaseSize"/> (input x 256 / 224), or the parent's
    /// base size when fine-tuning.
    /// </summary>
    public int? BaseSize { get; init; }

    public AlexNetLayout Layout { get; init; } = AlexNetLayout.Grouped;

    /// <summary>
    /// Where the network trains, as torch names it (<c>cpu</c>, <c>cuda:0</c>): grouped on the first device, two
    /// towers on the first and second (both on the first when one is given). Null or empty trains on the CPU. Not part
    /// of a checkpoint: a run may resume on other devices.
    /// </summary>
    public IReadOnlyList<string>? Devices { get; init; }

    /// <summary>
    /// Initial bias of conv2, conv4, conv5, fc6, fc7 under <see cref="WeightInit.Paper"/> (the paper's 1; Caffe's 0.1,
    /// PAPER.md trap 4). Variance-scaling init starts every bias at 0.
    /// </summary>
    public double PositiveBias { get; init; } = 1.0;

    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Also checkpoint every this many steps (0: only at the end of each epoch).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Stop (checkpoint, package, exit normally) once this much time has passed.</summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>Use at most this many images of each class (before the validation split).</summary>
    public int? LimitPerClass { get; init; }

    /// <summary>Keep decoded base images in memory: null decides by size (<see cref="CacheBudgetBytes"/>).</summary>
    public bool? CacheImages { get; init; }

    public long CacheBudgetBytes { get; init; } = 2L << 30;

    /// <summary>Images decoded at once by the loader.</summary>
    public int DecodeParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Batches prepared ahead of the optimiser.</summary>
    public int Prefetch { get; init; } = 4;

    /// <summary>Intra-op threads of torch (0: leave torch's default).</summary>
    public int TorchThreads { get; init; }

    /// <summary>A batch mean loss above this multiple of ln(classes) (chance) counts as divergence, like NaN/Inf.</summary>
    public double DivergenceLossFactor { get; init; } = 25;

    /// <summary>Version of the model package; null derives one from the time and the data fingerprint.</summary>
    public string? Version { get; init; }

    public string? ParentVersion { get; init; }

    /// <summary>
    /// Fine-tune: the folder of a model package (<c>manifest.json</c> and its weights file, as a run writes into
    /// <c>model/</c>) whose weights the network starts from; null trains from scratch. Same classes: every layer is
    /// copied; other classes: all but fc8, which starts afresh. The input size must be the package's; its mean and std
    /// normalise the inputs, and its base size is the default. A package already in memory (a worker's, from blob
    /// storage) goes to <see cref="Trainer.FineTuneAsync"/> instead.
    /// </summary>
    public string? FineTuneFrom { get; init; }

    /// <summary>The defaults of <paramref name="recipe"/>; set further properties with <c>with</c>.</summary>
    public static TrainingOptions For(TrainingRecipe recipe) => recipe switch
    {
        TrainingRecipe.Default => new TrainingOptions(),
        TrainingRecipe.Paper => new TrainingOptions
        {
            Recipe = TrainingRecipe.Paper,
            BatchSize = 128,
            MinPatienceSteps = 0,
            WarmupSteps = 0,
            Init = WeightInit.Paper,
            NormalizeInput = false,
            PositiveBias = 1.0,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(recipe), recipe, "unknown recipe"),
    };

    /// <summary>A recipe by its name (<c>default</c>, <c>paper</c>), or an error naming the choices.</summary>
    public static TrainingRecipe ParseRecipe(string name) =>
        Enum.TryParse(name, ignoreCase: true, out TrainingRecipe recipe) && Enum.IsDefined(recipe) && !int.TryParse(name, out _)
            ? recipe
            : throw new ArgumentException($"recipe must be one of {string.Join(", ", Enum.GetNames<TrainingRecipe>().Select(n => n.ToLowerInvariant()))}, not '{name}'");

    /// <summary>The base size: as given, or the input size scaled by the paper's 256 / 224 (64 gives 73).</summary>
    public int ResolveBaseSize() => BaseSize ?? (int)Math.Round(InputSize * BaseToInputRatio, MidpointRounding.AwayFromZero);

    /// <summary>
    /// The batch size: as given, or the largest power of two that still gives <see cref="AutoBatchStepsPerEpoch"/>
    /// steps an epoch, between <see cref="MinAutoBatchSize"/> and <see cref="MaxAutoBatchSize"/>: 1,260 training
    /// images train at 32, 4,500 at 128.
    /// </summary>
    public int ResolveBatchSize(int trainImages)
    {
        if (BatchSize is { } given)
            return given;
        int batch = MinAutoBatchSize;
        while (batch * 2 <= MaxAutoBatchSize && batch * 2 * AutoBatchStepsPerEpoch <= trainImages)
            batch *= 2;
        return batch;
    }

    public void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
                throw new ArgumentException(message);
        }
        Require(Epochs >= 1, "epochs must be at least 1");
        Require(BatchSize is null or >= 1, "batch size must be at least 1");
        Require(double.IsFinite(LearningRate) && LearningRate > 0, "learning rate must be a positive number");
        Require(Momentum is >= 0 and < 1, "momentum must be in [0, 1)");
        Require(WeightDecay >= 0, "weight decay must not be negative");
        Require(Patience >= 1, "patience must be at least 1");
        Require(MinPatienceSteps >= 0, "minimum patience in steps must not be negative");
        Require(WarmupSteps >= 0, "warm-up steps must not be negative");
        Require(MaxDrops >= 0, "max drops must not be negative");
        Require(InputSize >= AlexNetOptions.MinInputSize, $"input size must be at least {AlexNetOptions.MinInputSize}");
        Require(BaseSize is null || BaseSize >= InputSize, "base size must be at least the input size");
        Require(ResolveBaseSize() <= AlexNet.Imaging.ImageDecoder.MaxBaseSize, $"base size must be at most {AlexNet.Imaging.ImageDecoder.MaxBaseSize}");
        Require(ValidationFraction is > 0 and < 1, "validation fraction must be in (0, 1)");
        Require(CheckpointEvery >= 0, "checkpoint interval must not be negative");
        Require(LimitPerClass is null or >= 2, "limit per class must be at least 2");
        Require(MaxDuration is null || MaxDuration > TimeSpan.Zero, "max duration must be positive");
        Require(Prefetch >= 1 && DecodeParallelism >= 1, "prefetch and decode parallelism must be at least 1");
        Require(FineTuneFrom is null || !string.IsNullOrWhiteSpace(FineTuneFrom), "the model package to fine-tune from must be a folder name");
        Require(Devices is null || Devices.Count <= 2, "the network trains on at most 2 devices");
        Require(Devices is null || Devices.All(d => d == "cpu" || System.Text.RegularExpressions.Regex.IsMatch(d, "^cuda:[0-9]{1,2}$")),
            $"devices must be 'cpu' or 'cuda:N', not '{string.Join(",", Devices ?? [])}'");
    }

    public AlexNetOptions NetworkOptions(int classes) => new()
    {
        Classes = classes,
        InputSize = InputSize,
        Layout = Layout,
        Init = Init,
        PositiveBias = PositiveBias,
        Seed = Seed,
    };
}
