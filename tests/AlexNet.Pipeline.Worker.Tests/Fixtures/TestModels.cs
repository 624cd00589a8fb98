using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Worker.Tests.Fixtures;

/// <summary>Random-weight AlexNet packages at 64x64 input (the smallest the network takes), built once per run.</summary>
public static class TestModels
{
    public static readonly string[] Classes = Enumerable.Range(0, 10).Select(i => $"class-{i}").ToArray();

    private static readonly Lazy<ModelPackage> First = new(() => Build("v1", seed: 3));
    private static readonly Lazy<ModelPackage> Second = new(() => Build("v2", seed: 5));

    public static ModelPackage V1 => First.Value;

    public static ModelPackage V2 => Second.Value;

    /// <summary>Publishes through the registry, as the retrain job does, and optionally promotes.</summary>
    public static async Task PublishAsync(IBlobStore store, ModelPackage package, bool promote = true)
    {
        var registry = new ModelRegistry(store, TimeProvider.System);
        await registry.PublishAsync(package);
        if (promote)
            await registry.PromoteAsync(package.Manifest.Version, "test");
    }

    private static ModelPackage Build(string version, int seed)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = Classes.Length, InputSize = 64, Seed = seed });
        return ModelPackage.Create(new ModelManifest
        {
            Version = version,
            Classes = Classes,
            InputSize = 64,
            BaseSize = 72,
            Mean = [120f, 110f, 100f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        }, network);
    }
}
