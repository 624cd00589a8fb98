using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Testing;

/// <summary>Random-weight AlexNet packages at 64x64 input (the smallest the network takes), each built once per test run.</summary>
public static class TestModels
{
    public static readonly IReadOnlyList<string> Classes = [.. Enumerable.Range(0, 10).Select(i => $"class-{i}")];

    private static readonly Lazy<ModelPackage> First = new(() => Build("v1", seed: 3));
    private static readonly Lazy<ModelPackage> Second = new(() => Build("v2", seed: 5));

    public static ModelPackage V1 => First.Value;

    /// <summary>Another version with other weights, for tests of a model change.</summary>
    public static ModelPackage V2 => Second.Value;

    /// <summary>A random-weight 10-class package at 64x64 input under <paramref name="version"/>.</summary>
    public static ModelPackage Build(string version, int seed)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = Classes.Count, InputSize = 64, Seed = seed });
        return ModelPackage.Create(new ModelManifest
        {
            Version = version,
            Classes = [.. Classes],
            InputSize = 64,
            BaseSize = 72,
            Mean = [120f, 110f, 100f],
            WeightsSha256 = "pending",
            CreatedAt = DateTimeOffset.UnixEpoch,
        }, network);
    }

    /// <summary>Publishes through the registry, as the retrain orchestration does, and by default promotes.</summary>
    public static async Task PublishAsync(IBlobStore store, ModelPackage package, bool promote = true)
    {
        ArgumentNullException.ThrowIfNull(package);
        var registry = new ModelRegistry(store, TimeProvider.System);
        await registry.PublishAsync(package).ConfigureAwait(false);
        if (promote)
            await registry.PromoteAsync(package.Manifest.Version, "test").ConfigureAwait(false);
    }

    /// <summary>Publishes and promotes <see cref="V1"/>.</summary>
    public static Task PromoteV1Async(IBlobStore store) => PublishAsync(store, V1);
}
