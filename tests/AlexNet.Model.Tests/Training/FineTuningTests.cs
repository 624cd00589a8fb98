using AlexNet.Model.Data;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Model.Tests.Data;
using AlexNet.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Training;

[Collection(nameof(TrainingRuns))]
public sealed class FineTuningTests : IDisposable
{
    // Normalisation constants no generated image set has: they can only reach a manifest from the parent.
    private static readonly float[] ParentMean = [101f, 102f, 103f];
    private static readonly float[] ParentStd = [31f, 32f, 33f];

    private readonly TempFolder temp = new();

    /// <summary>A learning rate this small leaves every weight where it started (to float precision) for one epoch.</summary>
    private static TrainingOptions Still => new()
    {
        Epochs = 1,
        BatchSize = 16,
        InputSize = 64,
        LearningRate = 1e-9,
        WarmupSteps = 0,
        Seed = 5,
        Prefetch = 2,
    };

    private async Task<ImageDataSet> TinyData(int classes) =>
        await ImageDataSet.ListAsync(new FolderImageSource(TinyImages.Create(temp.Sub($"data-{classes}"), classes: classes, perClass: 10)));

    private static ModelPackage Parent(IReadOnlyList<string> classes, int inputSize = 64, int baseSize = 70, int seed = 11)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = classes.Count, InputSize = inputSize, Init = WeightInit.VarianceScaling, Seed = seed });
        var manifest = new ModelManifest
        {
            Version = $"parent-{seed}",
            Classes = classes,
            InputSize = inputSize,
            BaseSize = baseSize,
            Mean = ParentMean,
            Std = ParentStd,
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        };
        return ModelPackage.Create(manifest, network);
    }

    private static string[] ClassNames(int count) => [.. Enumerable.Range(0, count).Select(i => $"class-{i:D2}")];

    private static Tensor Logits(AlexNetNetwork network, Tensor input)
    {
        network.eval();
        using var inference = torch.inference_mode();
        return network.call(input);
    }

    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape))
            return false;
        using Tensor equal = a.eq(b).all();
        return equal.item<bool>();
    }

    private static void AssertClose(Tensor expected, Tensor actual, string name)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{name}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using Tensor difference = (expected - actual).abs().max();
        Assert.True(difference.item<float>() < 1e-6f, $"{name} moved {difference.item<float>():G3} from the parent's");
    }

    [Fact]
    public void WithTheSameClassesEveryWeightIsCopiedAndTheFirstForwardEqualsTheParents()
    {
        ModelPackage parent = Parent(ClassNames(10));
        using AlexNetNetwork original = parent.CreateNetwork();
        using AlexNetNetwork network = AlexNetFactory.Create(new AlexNetOptions { Classes = 10, InputSize = 64, Init = WeightInit.VarianceScaling, Seed = 99 });
        using Tensor input = torch.randn([2, 3, 64, 64], generator: new torch.Generator(3));
        using Tensor before = Logits(network, input);

        FineTuneLineage lineage = FineTuning.CopyWeights(parent, network, ClassNames(10));

        using Tensor expected = Logits(original, input);
        using Tensor actual = Logits(network, input);
        Assert.False(Same(expected, before), "the fresh network already gave the parent's output: the test shows nothing");
        Assert.True(Same(expected, actual), "the first forward differs from the parent's");
        Assert.Equal(new FineTuneLineage { Version = "parent-11", WeightsSha256 = parent.Manifest.WeightsSha256, HeadReinitialized = false }, lineage);
    }

    [Fact]
    public void WithOtherClassesTheLastLayerKeepsItsFreshDrawAndEveryOtherLayerIsTheParents()
    {
        ModelPackage parent = Parent(ClassNames(10));
        using AlexNetNetwork network = AlexNetFactory.Create(new AlexNetOptions { Classes = 4, InputSize = 64, Init = WeightInit.VarianceScaling, Seed = 99 });
        Dictionary<string, Tensor> fresh = network.ExportWeights();
        Dictionary<string, Tensor> inherited = WeightsFormat.Deserialize(parent.WeightsBytes.Span);

        FineTuneLineage lineage = FineTuning.CopyWeights(parent, network, ClassNames(4));

        Dictionary<string, Tensor> copied = network.ExportWeights();
        try
        {
            Assert.Equal([4L, 4096L], copied["fc8.weight"].shape);
            Assert.True(Same(fresh["fc8.weight"], copied["fc8.weight"]) && Same(fresh["fc8.bias"], copied["fc8.bias"]), "fc8 is not the fresh draw");
            foreach (string name in copied.Keys.Where(n => !n.StartsWith("fc8.", StringComparison.Ordinal)))
                Assert.True(Same(inherited[name], copied[name]), $"{name} is not the parent's");
            Assert.True(lineage.HeadReinitialized);
        }
        finally
        {
            foreach (Tensor tensor in fresh.Values.Concat(inherited.Values).Concat(copied.Values))
                tensor.Dispose();
        }
    }

    [Fact]
    public async Task FineTuningWithTheSameClassesStartsFromTheParentAndKeepsItsNormalisationAndBaseSize()
    {
        ImageDataSet data = await TinyData(classes: 10);
        ModelPackage parent = Parent(data.Classes);

        TrainingResult result = await new Trainer(Still).FineTuneAsync(parent, data, temp.Sub("same"));

        ModelPackage tuned = ModelPackage.LoadDirectory(result.ModelDirectory);
        ModelManifest manifest = tuned.Manifest;
        Assert.Equal("parent-11", manifest.ParentVersion);
        Assert.Equal(new FineTuneLineage { Version = "parent-11", WeightsSha256 = parent.Manifest.WeightsSha256, HeadReinitialized = false }, manifest.FineTunedFrom);
        Assert.Equal(result.FineTunedFrom, manifest.FineTunedFrom);
        Assert.Equal(ParentMean, manifest.Mean);
        Assert.Equal(ParentStd, manifest.Std);
        Assert.NotNull(manifest.Pca);
        Assert.Equal((64, 70), (manifest.InputSize, manifest.BaseSize));
        Dictionary<string, Tensor> expected = WeightsFormat.Deserialize(parent.WeightsBytes.Span);
        Dictionary<string, Tensor> actual = WeightsFormat.Deserialize(tuned.WeightsBytes.Span);
        try
        {
            Assert.Equal(16, actual.Count);
            foreach (var (name, weight) in expected)
                AssertClose(weight, actual[name], name);
        }
        finally
        {
            foreach (Tensor tensor in expected.Values.Concat(actual.Values))
                tensor.Dispose();
        }
    }

    [Fact]
    public async Task FineTuningFromAPackageFolderWithOtherClassesDrawsOnlyTheHeadAfresh()
    {
        ImageDataSet data = await TinyData(classes: 4);
        ModelPackage parent = Parent(ClassNames(10));
        string folder = temp.Sub("parent");
        parent.SaveDirectory(folder);

        TrainingResult result = await new Trainer(Still with { FineTuneFrom = folder }).RunAsync(data, temp.Sub("other"));

        ModelManifest manifest = ModelPackage.LoadDirectory(result.ModelDirectory).Manifest;
        Assert.Equal(ClassNames(4), manifest.Classes);
        Assert.Equal("parent-11", manifest.ParentVersion);
        Assert.True(manifest.FineTunedFrom!.HeadReinitialized);
        Dictionary<string, Tensor> expected = WeightsFormat.Deserialize(parent.WeightsBytes.Span);
        Dictionary<string, Tensor> actual = WeightsFormat.Deserialize(ModelPackage.LoadDirectory(result.ModelDirectory).WeightsBytes.Span);
        try
        {
            Assert.Equal([4L, 4096L], actual["fc8.weight"].shape);
            Assert.Equal([4L], actual["fc8.bias"].shape);
            foreach (string name in expected.Keys.Where(n => !n.StartsWith("fc8.", StringComparison.Ordinal)))
                AssertClose(expected[name], actual[name], name);
        }
        finally
        {
            foreach (Tensor tensor in expected.Values.Concat(actual.Values))
                tensor.Dispose();
        }
    }

    [Fact]
    public async Task AnotherInputSizeAMissingFolderAndTamperedWeightsAreRefusedBeforeTraining()
    {
        ImageDataSet data = await TinyData(classes: 4);
        ModelPackage parent = Parent(ClassNames(4));
        string folder = temp.Sub("parent");
        parent.SaveDirectory(folder);
        byte[] weights = await File.ReadAllBytesAsync(Path.Combine(folder, ModelPackage.WeightsFileName));
        weights[^1] ^= 0x40;
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelPackage.WeightsFileName), weights);
        string run = temp.Sub("refused");

        var size = await Assert.ThrowsAsync<ArgumentException>(() => new Trainer(Still with { InputSize = 72 }).FineTuneAsync(parent, data, run));
        var tampered = await Assert.ThrowsAsync<InvalidDataException>(() => new Trainer(Still with { FineTuneFrom = folder }).RunAsync(data, run));
        var missing = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => new Trainer(Still with { FineTuneFrom = temp.Sub("nothing") }).RunAsync(data, run));
        var other = await Assert.ThrowsAsync<ArgumentException>(() => new Trainer(Still with { ParentVersion = "v7" }).FineTuneAsync(parent, data, run));

        Assert.Equal("input size 72 differs from model parent-11's 64: a fine-tuned network keeps its parent's input size", size.Message);
        Assert.Contains("SHA-256", tampered.Message, StringComparison.Ordinal);
        Assert.Contains("no such folder", missing.Message, StringComparison.Ordinal);
        Assert.Contains("v7", other.Message, StringComparison.Ordinal);
        Assert.All(new Exception[] { size, tampered, missing, other }, error => Assert.DoesNotContain('\n', error.Message));
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public async Task AResumedFineTuningRunKeepsItsLineageAndRefusesToResumeWithoutItsParent()
    {
        ImageDataSet data = await TinyData(classes: 4);
        ModelPackage parent = Parent(ClassNames(10));
        string run = temp.Sub("resumed");
        await new Trainer(Still with { MaxDuration = TimeSpan.FromTicks(1) }).FineTuneAsync(parent, data, run);

        var withoutParent = await Assert.ThrowsAsync<InvalidDataException>(() => new Trainer(Still).RunAsync(data, run, resume: true));
        var otherParent = await Assert.ThrowsAsync<InvalidDataException>(() => new Trainer(Still).FineTuneAsync(Parent(ClassNames(10), seed: 12), data, run, resume: true));
        TrainingResult resumed = await new Trainer(Still).FineTuneAsync(parent, data, run, resume: true);

        Assert.Contains("parent-11", withoutParent.Message, StringComparison.Ordinal);
        Assert.Contains("parent-11", otherParent.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1), (resumed.ResumedAtEpoch, resumed.ResumedAtStep));
        ModelManifest manifest = ModelPackage.LoadDirectory(resumed.ModelDirectory).Manifest;
        Assert.Equal(parent.Manifest.WeightsSha256, manifest.FineTunedFrom!.WeightsSha256);
        Assert.True(manifest.FineTunedFrom.HeadReinitialized);
        Assert.Equal(ParentStd, manifest.Std);
    }

    public void Dispose() => temp.Dispose();
}
