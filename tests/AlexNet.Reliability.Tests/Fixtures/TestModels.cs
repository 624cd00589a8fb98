using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>A random-weight AlexNet package at 64x64 input (the smallest the network takes), built once per test run.</summary>
internal static class TestModels
{
    private static readonly Lazy<ModelPackage> Package = new(() => Build("v1", seed: 3));

    public static ModelPackage V1 => Package.Value;

    /// <summary>A random-weight 10-class package at 64x64 input under <paramref name="version"/>.</summary>
    public static ModelPackage Build(string version, int seed)
    {
        string[] classes = [.. Enumerable.Range(0, 10).Select(i => $"class-{i}")];
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = classes.Length, InputSize = 64, Seed = seed });
        return ModelPackage.Create(new ModelManifest
        {
            Version = version,
            Classes = classes,
            InputSize = 64,
            BaseSize = 72,
            Mean = [120f, 110f, 100f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        }, network);
    }

    /// <summary>Publishes and promotes v1 through the registry, as the retrain orchestration does.</summary>
    public static async Task PromoteV1Async(IBlobStore store)
    {
        var registry = new ModelRegistry(store, TimeProvider.System);
        await registry.PublishAsync(V1);
        await registry.PromoteAsync(V1.Manifest.Version, "reliability test");
    }
}
