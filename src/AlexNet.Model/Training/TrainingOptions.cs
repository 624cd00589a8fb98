using AlexNet.Model.Network;

namespace AlexNet.Model.Training;

/// <summary>How to train. Defaults are the paper's recipe (PAPER.md) where it has one.</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 90;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.01;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Epochs without a better validation error before the rate is divided by 10.</summary>
    public int Patience { get; init; } = 3;

    public int MaxDrops { get; init; } = 3;
    public int Seed { get; init; } = 1;
    public int InputSize { get; init; } = 224;
    public int BaseSize { get; init; } = 256;
    public AlexNetLayout Layout { get; init; } = AlexNetLayout.Grouped;

    /// <summary>
    /// Where the network trains, as torch names it (<c>cpu</c>, <c>cuda:0</c>): grouped on the first device, two
    /// towers on the first and second (both on the first when one is given). Null or empty trains on the CPU. Not part
    /// of a checkpoint: a run may resume on other devices.
    /// </summary>
    public IReadOnlyList<string>? Devices { get; init; }

    /// <summary>
    /// Initial bias of conv2, conv4, conv5, fc6, fc7. Caffe's 0.1, not the paper's 1 (PAPER.md trap 4): measured
    /// here, 1 left training at chance (docs/training.md).
    /// </summary>
    public double PositiveBias { get; init; } = 0.1;

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

    public void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
                throw new ArgumentException(message);
        }
        Require(Epochs >= 1, "epochs must be at least 1");
        Require(BatchSize >= 1, "batch size must be at least 1");
        Require(double.IsFinite(LearningRate) && LearningRate > 0, "learning rate must be a positive number");
        Require(Momentum is >= 0 and < 1, "momentum must be in [0, 1)");
        Require(WeightDecay >= 0, "weight decay must not be negative");
        Require(Patience >= 1, "patience must be at least 1");
        Require(MaxDrops >= 0, "max drops must not be negative");
        Require(InputSize >= AlexNetOptions.MinInputSize, $"input size must be at least {AlexNetOptions.MinInputSize}");
        Require(BaseSize >= InputSize, "base size must be at least the input size");
        Require(ValidationFraction is > 0 and < 1, "validation fraction must be in (0, 1)");
        Require(CheckpointEvery >= 0, "checkpoint interval must not be negative");
        Require(LimitPerClass is null or >= 2, "limit per class must be at least 2");
        Require(MaxDuration is null || MaxDuration > TimeSpan.Zero, "max duration must be positive");
        Require(Prefetch >= 1 && DecodeParallelism >= 1, "prefetch and decode parallelism must be at least 1");
        Require(Devices is null || Devices.Count <= 2, "the network trains on at most 2 devices");
        Require(Devices is null || Devices.All(d => d == "cpu" || System.Text.RegularExpressions.Regex.IsMatch(d, "^cuda:[0-9]{1,2}$")),
            $"devices must be 'cpu' or 'cuda:N', not '{string.Join(",", Devices ?? [])}'");
    }

    /// <summary><see cref="Devices"/> as torch devices, or null for the CPU.</summary>
    public IReadOnlyList<TorchSharp.torch.Device>? TorchDevices() =>
        Devices is { Count: > 0 } names ? [.. names.Select(name => TorchSharp.torch.device(name))] : null;

    public AlexNetOptions NetworkOptions(int classes) => new()
    {
        Classes = classes,
        InputSize = InputSize,
        Layout = Layout,
        PositiveBias = PositiveBias,
        Seed = Seed,
    };
}
