using System.Text.Json;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Labeling;
using AlexNet.Pipeline.Worker;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Tests.Models;

/// <summary>What the registry and the worker's model holder do with model folders someone wrote by hand.</summary>
public sealed class ModelRegistryIntegrityTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"alexnet-registry-{Guid.NewGuid():N}");

    [Fact]
    public async Task AManifestInAnotherVersionsFolderIsRefused()
    {
        var store = new LocalFolderBlobStore(root);
        var registry = new ModelRegistry(store, TimeProvider.System);
        ModelPackage v1 = LabelingFixture.Package("v1");
        await registry.PublishAsync(v1);
        await CopyAsVersionAsync(store, v1, "v2");

        await Assert.ThrowsAsync<ModelIntegrityException>(() => registry.LoadAsync("v2"));
    }

    [Fact]
    public async Task AMalformedManifestDoesNotEndTheListing()
    {
        var store = new LocalFolderBlobStore(root);
        var registry = new ModelRegistry(store, TimeProvider.System);
        await registry.PublishAsync(LabelingFixture.Package("v1"));
        await store.UploadAsync(PipelineNames.ModelsContainer, $"broken/{ModelPackage.ManifestFileName}", BinaryData.FromString("{ not json"));
        await CopyAsVersionAsync(store, LabelingFixture.Package("v1"), "v3");

        var listed = await registry.ListAsync().ToListAsync();

        Assert.Equal(["broken", "v1", "v3"], listed.Select(l => l.Version).Order(StringComparer.Ordinal));
        Assert.Equal("v1", Assert.Single(listed, l => l.Manifest is not null).Manifest!.Version);
        Assert.Contains("not valid JSON", listed.Single(l => l.Version == "broken").Problem, StringComparison.Ordinal);
        Assert.Contains("names version v1", listed.Single(l => l.Version == "v3").Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APromotedVersionWhoseManifestNamesAnotherIsRefusedOnceNotReloadedEveryPoll()
    {
        var store = new CountingBlobStore(new LocalFolderBlobStore(root), new RequestCounter(), perBlob: true);
        var registry = new ModelRegistry(store, TimeProvider.System);
        ModelPackage v1 = LabelingFixture.Package("v1");
        await registry.PublishAsync(v1);
        await CopyAsVersionAsync(store, v1, "v2");
        // Written as a hand edit would write it: the registry itself no longer promotes such a folder.
        var pointer = new CurrentModelPointer("v2", null, DateTimeOffset.UnixEpoch, "by hand");
        await store.UploadAsync(PipelineNames.ModelsContainer, PipelineNames.CurrentModelBlob,
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(pointer, ModelJsonContext.Default.CurrentModelPointer)));
        using var holder = new ModelHolder(registry, new DevicePlacement(AlexNetLayout.Grouped, ["cpu"]), TimeProvider.System, NullLogger<ModelHolder>.Instance);

        for (int poll = 0; poll < 5; poll++)
            await holder.RefreshAsync();

        Assert.Null(holder.CurrentVersion);
        Assert.Equal(1, store.ReadsOf(PipelineNames.ModelsContainer, $"v2/{ModelPackage.ManifestFileName}"));
        Assert.Equal(0, store.ReadsOf(PipelineNames.ModelsContainer, $"v2/{ModelPackage.WeightsFileName}"));
    }

    [Fact]
    public async Task APromotedVersionRewrittenWithItsHashesRecomputedIsRefused()
    {
        var store = new LocalFolderBlobStore(root);
        var registry = new ModelRegistry(store, TimeProvider.System);
        ModelPackage v1 = LabelingFixture.Package("v1");
        await registry.PublishAsync(v1);
        await registry.PromoteAsync("v1", "test");
        // Someone who can write version folders (the worker publishes candidates) swaps two classes and seals again.
        ModelManifest swapped = v1.Manifest with { Classes = [v1.Manifest.Classes[1], v1.Manifest.Classes[0], .. v1.Manifest.Classes.Skip(2)] };
        swapped = swapped with { ManifestSha256 = swapped.ComputeManifestSha256() };
        await store.UploadAsync(PipelineNames.ModelsContainer, $"v1/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(swapped.ToJson()));

        var error = await Assert.ThrowsAsync<ModelIntegrityException>(() => registry.LoadCurrentAsync());

        Assert.Contains("rewritten after promotion", error.Message, StringComparison.Ordinal);
        Assert.Equal(swapped.Classes, (await registry.LoadAsync("v1")).Manifest.Classes);
    }

    /// <summary>A version folder holding another version's manifest and weights, byte for byte.</summary>
    private static async Task CopyAsVersionAsync(IBlobStore store, ModelPackage package, string version)
    {
        await store.UploadAsync(PipelineNames.ModelsContainer, $"{version}/{ModelPackage.WeightsFileName}", BinaryData.FromBytes(package.WeightsBytes));
        await store.UploadAsync(PipelineNames.ModelsContainer, $"{version}/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(package.ManifestBytes));
    }

    [Fact]
    public async Task RollbacksWalkBackThroughTheHistoryAndNeverForward()
    {
        var store = new LocalFolderBlobStore(root);
        var registry = new ModelRegistry(store, TimeProvider.System);
        foreach (string version in new[] { "v1", "v2", "v3" })
        {
            await registry.PublishAsync(LabelingFixture.Package(version));
            await registry.PromoteAsync(version, "test");
        }

        CurrentModelPointer first = await registry.RollbackAsync("test");
        CurrentModelPointer second = await registry.RollbackAsync("test");
        var third = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RollbackAsync("test"));

        Assert.Equal(("v2", "v1"), (first.Version, first.Previous));
        Assert.Equal(("v1", null), (second.Version, second.Previous)); // a toggle went back to v3 here
        Assert.Contains("no earlier version", third.Message, StringComparison.Ordinal);
        Assert.Equal("v1", (await registry.GetCurrentAsync())!.Version);

        // Promoting again starts a new history on top of the current version.
        CurrentModelPointer again = await registry.PromoteAsync("v3", "test");
        Assert.Equal(["v1"], again.History!);
    }

    [Fact]
    public async Task APointerWrittenBeforeTheHistoryRollsBackToItsPreviousOnce()
    {
        var store = new LocalFolderBlobStore(root);
        var registry = new ModelRegistry(store, TimeProvider.System);
        await registry.PublishAsync(LabelingFixture.Package("v1"));
        await registry.PublishAsync(LabelingFixture.Package("v2"));
        var old = new CurrentModelPointer("v2", "v1", DateTimeOffset.UnixEpoch, "promoted by an earlier build");
        await store.UploadAsync(PipelineNames.ModelsContainer, PipelineNames.CurrentModelBlob,
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(old, ModelJsonContext.Default.CurrentModelPointer)));

        Assert.Equal("v1", (await registry.RollbackAsync("test")).Version);
        await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RollbackAsync("test"));
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
    }
}
