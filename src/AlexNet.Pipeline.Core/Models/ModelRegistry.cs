using System.Runtime.CompilerServices;
using System.Text.Json;
using AlexNet.Model;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Models;

/// <summary>Raised when promotion or rollback is impossible (no such version, nothing to roll back to).</summary>
public sealed class ModelRegistryException(string message) : InvalidOperationException(message);

/// <summary>What <see cref="ModelRegistry.PublishVerifiedAsync"/> did.</summary>
public enum PublishOutcome
{
    /// <summary>Uploaded now, and read back intact.</summary>
    Published,

    /// <summary>The version was published before with exactly this package: nothing was written.</summary>
    AlreadyPublished,
}

/// <summary>One entry of <see cref="ModelRegistry.ListAsync"/>: a readable manifest, or the folder and why it is unreadable.</summary>
public sealed record ModelListing(string Version, ModelManifest? Manifest, string? Problem);

/// <summary>
/// Model packages in the <c>models</c> container: <c>models/&lt;version&gt;/manifest.json</c> and
/// the weights file it names, and <c>models/current.json</c> naming the promoted version and the one before it.
/// Publishing is create-if-absent (a version is immutable); promotion and rollback replace the pointer only if
/// nobody changed it since it was read.
/// </summary>
public sealed class ModelRegistry(IBlobStore store, TimeProvider time)
{
    /// <summary>What to do while no model is promoted, said by the API's batch status, the CLI and the local sweep.</summary>
    public const string NoModelAdvice =
        "upload labeled images to training/<dataset>/<class>/ and POST /api/retrain/<dataset> (body {\"inputSize\": 64} for small images), " +
        "promote a published model with POST /api/models/<version>/promote, or run alexnet pipeline --demo";

    private const string Container = PipelineNames.ModelsContainer;

    public async Task PublishAsync(ModelPackage package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        string version = package.Manifest.Version;
        ValidateVersion(version);
        // Weights first: a manifest never points at weights that are not there yet.
        await store.CreateIfAbsentAsync(Container, $"{version}/{package.Manifest.WeightsFile}", BinaryData.FromBytes(package.WeightsBytes), "application/octet-stream", cancellationToken).ConfigureAwait(false);
        CreateOutcome manifest = await store.CreateIfAbsentAsync(Container, $"{version}/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(package.ManifestBytes), "application/json", cancellationToken).ConfigureAwait(false);
        if (manifest == CreateOutcome.AlreadyExists)
        {
            ModelPackage existing = await LoadAsync(version, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(existing.Manifest.WeightsSha256, package.Manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
                throw new ModelRegistryException($"model version {version} already exists with other weights; versions are immutable");
        }
    }

    /// <summary>
    /// Publishes a package brought from elsewhere (<c>alexnet models publish</c>, <c>PUT /api/models/&lt;version&gt;</c>)
    /// and checks what storage then holds: the version read back must load (<see cref="LoadAsync"/>: seal, size,
    /// SHA-256) with this package's hashes. Publishing the same package again is a no-op
    /// (<see cref="PublishOutcome.AlreadyPublished"/>); another package under a published version is refused with
    /// <see cref="ModelRegistryException"/> (versions are immutable). A weights file left without a manifest by an
    /// interrupted publish is replaced: the version was never published.
    /// </summary>
    public async Task<PublishOutcome> PublishVerifiedAsync(ModelPackage package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        string version = package.Manifest.Version;
        ValidateVersion(version);
        if (await ExistingDifferenceAsync(package, cancellationToken).ConfigureAwait(false) is { } existing)
            return existing.Length == 0 ? PublishOutcome.AlreadyPublished : throw new ModelRegistryException(existing);

        string weightsName = $"{version}/{package.Manifest.WeightsFile}";
        var weights = BinaryData.FromBytes(package.WeightsBytes);
        if (await store.CreateIfAbsentAsync(Container, weightsName, weights, "application/octet-stream", cancellationToken).ConfigureAwait(false) == CreateOutcome.AlreadyExists)
        {
            BlobDownload? left = await store.DownloadAsync(Container, weightsName, cancellationToken).ConfigureAwait(false);
            if (left is null || !string.Equals(ModelPackage.Sha256(left.Content.ToMemory().Span), package.Manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
                await store.UploadAsync(Container, weightsName, weights, "application/octet-stream", left?.Entry.ETag, cancellationToken).ConfigureAwait(false);
        }
        CreateOutcome manifest = await store.CreateIfAbsentAsync(Container, $"{version}/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(package.ManifestBytes), "application/json", cancellationToken).ConfigureAwait(false);
        if (manifest == CreateOutcome.AlreadyExists)
        {
            // Another publisher of this version won the race: the same package is fine, another is refused.
            string? difference = await ExistingDifferenceAsync(package, cancellationToken).ConfigureAwait(false);
            return difference is { Length: 0 } ? PublishOutcome.AlreadyPublished : throw new ModelRegistryException(difference ?? $"model version {version} changed while it was published");
        }

        ModelPackage stored;
        try
        {
            stored = await LoadAsync(version, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is InvalidDataException or ModelIntegrityException)
        {
            throw new ModelRegistryException($"model version {version} was uploaded but does not read back intact: {error.Message}");
        }
        if (!string.Equals(stored.Manifest.WeightsSha256, package.Manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(stored.Manifest.ManifestSha256, package.Manifest.ManifestSha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelRegistryException($"model version {version} was uploaded but reads back with other hashes (weights {stored.Manifest.WeightsSha256}, manifest {stored.Manifest.ManifestSha256})");
        return PublishOutcome.Published;
    }

    /// <summary>
    /// Null when the version is not published; "" when it is, with exactly this package (same manifest, same weights,
    /// which load); otherwise what differs, as a refusal.
    /// </summary>
    private async Task<string?> ExistingDifferenceAsync(ModelPackage package, CancellationToken cancellationToken)
    {
        string version = package.Manifest.Version;
        BlobDownload? manifest = await store.DownloadAsync(Container, $"{version}/{ModelPackage.ManifestFileName}", cancellationToken).ConfigureAwait(false);
        if (manifest is null)
            return null;
        ModelPackage existing;
        try
        {
            existing = await LoadAsync(version, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is InvalidDataException or ModelIntegrityException or ModelRegistryException)
        {
            return $"model version {version} is already published but does not load ({error.Message}); versions are immutable, publish under another version";
        }
        if (!string.Equals(existing.Manifest.WeightsSha256, package.Manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            return $"model version {version} is already published with other weights (SHA-256 {existing.Manifest.WeightsSha256}, this package's {package.Manifest.WeightsSha256}); versions are immutable, publish under another version";
        if (!existing.ManifestBytes.AsSpan().SequenceEqual(package.ManifestBytes))
            return $"model version {version} is already published with the same weights but another manifest (manifest SHA-256 {existing.Manifest.ManifestSha256 ?? "none"}, this package's {package.Manifest.ManifestSha256 ?? "none"}, or other metrics or creation time); versions are immutable, publish under another version";
        return "";
    }

    /// <summary>
    /// Downloads a version and checks it: the manifest's bounds, its version against its folder, its own SHA-256, the
    /// weights' size (from the blob's properties, before downloading them) and their SHA-256.
    /// </summary>
    public async Task<ModelPackage> LoadAsync(string version, CancellationToken cancellationToken = default)
    {
        ValidateVersion(version);
        BlobDownload manifest = await store.DownloadAsync(Container, $"{version}/{ModelPackage.ManifestFileName}", cancellationToken).ConfigureAwait(false)
            ?? throw new ModelRegistryException($"model version {version} does not exist");
        ModelManifest parsed = ParseManifest(version, manifest);
        string weightsName = $"{version}/{parsed.WeightsFile}";
        BlobEntry entry = await store.GetEntryAsync(Container, weightsName, cancellationToken).ConfigureAwait(false)
            ?? throw new ModelRegistryException($"model version {version} has no {parsed.WeightsFile}");
        ModelPackage.CheckWeightsSize(parsed, entry.Size);
        BlobDownload weights = await store.DownloadAsync(Container, weightsName, cancellationToken).ConfigureAwait(false)
            ?? throw new ModelRegistryException($"model version {version} has no {parsed.WeightsFile}");
        return ModelPackage.Load(manifest.Content.ToMemory().Span, weights.Content.ToArray());
    }

    /// <summary>
    /// The version a pointer names, loaded as <see cref="LoadAsync"/> loads it, and refused if its manifest is not the
    /// one the pointer pinned at promotion: whoever can write version folders cannot swap the promoted model.
    /// </summary>
    public async Task<ModelPackage> LoadPinnedAsync(CurrentModelPointer pointer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pointer);
        ModelPackage package = await LoadAsync(pointer.Version, cancellationToken).ConfigureAwait(false);
        if (pointer.ManifestSha256 is { } pinned && !string.Equals(pinned, package.Manifest.ManifestSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelIntegrityException(
                $"model {pointer.Version}: manifest SHA-256 is {package.Manifest.ManifestSha256 ?? "absent"}, promoted as {pinned}; the version was rewritten after promotion, refusing it");
        }
        return package;
    }

    /// <summary>A version's manifest, checked as <see cref="LoadAsync"/> checks it; null when the version does not exist.</summary>
    public async Task<ModelManifest?> GetManifestAsync(string version, CancellationToken cancellationToken = default)
    {
        ValidateVersion(version);
        BlobDownload? manifest = await store.DownloadAsync(Container, $"{version}/{ModelPackage.ManifestFileName}", cancellationToken).ConfigureAwait(false);
        return manifest is null ? null : ParseManifest(version, manifest);
    }

    /// <summary>
    /// Parses a manifest and refuses one that names another version than its folder (it would be loaded again and again
    /// by anyone comparing versions) or whose own SHA-256 does not match.
    /// </summary>
    private static ModelManifest ParseManifest(string folder, BlobDownload download)
    {
        ModelManifest manifest = ModelManifest.FromJson(download.Content.ToMemory().Span);
        if (!string.Equals(manifest.Version, folder, StringComparison.Ordinal))
            throw new ModelIntegrityException($"models/{folder}/{ModelPackage.ManifestFileName} names version {manifest.Version}; a version lives in its own folder, refusing it");
        manifest.VerifySeal();
        return manifest;
    }

    public async Task<CurrentModelPointer?> GetCurrentAsync(CancellationToken cancellationToken = default) =>
        (await ReadPointerAsync(cancellationToken).ConfigureAwait(false))?.Pointer;

    /// <summary>The promoted package, or null when nothing has been promoted yet.</summary>
    public async Task<ModelPackage?> LoadCurrentAsync(CancellationToken cancellationToken = default)
    {
        CurrentModelPointer? current = await GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        return current is null ? null : await LoadPinnedAsync(current, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Every published version's manifest, checked as <see cref="GetManifestAsync"/> checks it. A manifest that is not
    /// valid is listed with its problem instead of ending the listing: one bad upload must not hide the others.
    /// </summary>
    public async IAsyncEnumerable<ModelListing> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (BlobEntry entry in store.ListAsync(Container, null, cancellationToken).ConfigureAwait(false))
        {
            if (!entry.Name.EndsWith("/" + ModelPackage.ManifestFileName, StringComparison.Ordinal))
                continue;
            string folder = entry.Name[..^(ModelPackage.ManifestFileName.Length + 1)];
            if (!ModelManifest.IsValidVersion(folder))
            {
                yield return new ModelListing(folder, null, $"'{folder}' is not a valid version folder");
                continue;
            }
            if (entry.Size > ModelManifest.MaxJsonBytes)
            {
                yield return new ModelListing(folder, null, $"manifest is {entry.Size} bytes, more than {ModelManifest.MaxJsonBytes}");
                continue;
            }
            BlobDownload? download = await store.DownloadAsync(Container, entry.Name, cancellationToken).ConfigureAwait(false);
            if (download is null)
                continue;
            ModelListing listing;
            try
            {
                listing = new ModelListing(folder, ParseManifest(folder, download), null);
            }
            catch (Exception error) when (error is InvalidDataException or ModelIntegrityException)
            {
                listing = new ModelListing(folder, null, error.Message);
            }
            yield return listing;
        }
    }

    /// <summary>Makes a published version current; the version it replaces becomes the rollback target.</summary>
    public async Task<CurrentModelPointer> PromoteAsync(string version, string reason, CancellationToken cancellationToken = default)
    {
        ModelManifest? manifest = await ManifestToPointAtAsync(version, $"model version {version} cannot be promoted", cancellationToken).ConfigureAwait(false);
        if (manifest is null)
            throw new ModelRegistryException($"model version {version} does not exist");
        var existing = await ReadPointerAsync(cancellationToken).ConfigureAwait(false);
        if (existing?.Pointer.Version == version)
            return existing.Value.Pointer;
        // The replaced version goes on top of the history a rollback walks back through.
        string[] history = existing is { Pointer: var current }
            ? [.. new[] { current.Version }.Concat(current.Earlier()).Take(CurrentModelPointer.MaxHistory)]
            : [];
        var pointer = new CurrentModelPointer(version, history.FirstOrDefault(), time.GetUtcNow(), reason, manifest.ManifestSha256, history);
        await WritePointerAsync(pointer, existing?.ETag, cancellationToken).ConfigureAwait(false);
        return pointer;
    }

    /// <summary>
    /// One step back through the history: the version current before this one becomes current again, and the one
    /// before it becomes the next rollback's target. A second rollback goes further back, never forward again (it used
    /// to swap the two versions back); with no earlier version left it is refused.
    /// </summary>
    public async Task<CurrentModelPointer> RollbackAsync(string reason, CancellationToken cancellationToken = default)
    {
        var existing = await ReadPointerAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new ModelRegistryException("no model is current; nothing to roll back");
        IReadOnlyList<string> earlier = existing.Pointer.Earlier();
        if (earlier.Count == 0)
            throw new ModelRegistryException($"model {existing.Pointer.Version} has no earlier version to roll back to");
        string target = earlier[0];
        ModelManifest? manifest = await ManifestToPointAtAsync(target, $"cannot roll back to model version {target}", cancellationToken).ConfigureAwait(false);
        string[] rest = [.. earlier.Skip(1)];
        var pointer = new CurrentModelPointer(target, rest.FirstOrDefault(), time.GetUtcNow(), $"{reason} (from {existing.Pointer.Version})", manifest?.ManifestSha256, rest);
        await WritePointerAsync(pointer, existing.ETag, cancellationToken).ConfigureAwait(false);
        return pointer;
    }

    /// <summary>The manifest of a version current.json is about to name (null when absent); an invalid one is refused with <paramref name="refusal"/>.</summary>
    private async Task<ModelManifest?> ManifestToPointAtAsync(string version, string refusal, CancellationToken cancellationToken)
    {
        try
        {
            return await GetManifestAsync(version, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is InvalidDataException or ModelIntegrityException)
        {
            throw new ModelRegistryException($"{refusal}: {error.Message}");
        }
    }

    private async Task<(CurrentModelPointer Pointer, string ETag)?> ReadPointerAsync(CancellationToken cancellationToken)
    {
        BlobDownload? download = await store.DownloadAsync(Container, PipelineNames.CurrentModelBlob, cancellationToken).ConfigureAwait(false);
        if (download is null)
            return null;
        var pointer = JsonSerializer.Deserialize(download.Content.ToMemory().Span, ModelJsonContext.Default.CurrentModelPointer)
            ?? throw new InvalidDataException("models/current.json is empty");
        return (pointer, download.Entry.ETag);
    }

    private async Task WritePointerAsync(CurrentModelPointer pointer, string? expectedETag, CancellationToken cancellationToken)
    {
        var content = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(pointer, ModelJsonContext.Default.CurrentModelPointer));
        if (expectedETag is null)
        {
            if (await store.CreateIfAbsentAsync(Container, PipelineNames.CurrentModelBlob, content, "application/json", cancellationToken).ConfigureAwait(false) == CreateOutcome.AlreadyExists)
                throw new BlobConflictException("models/current.json was created concurrently; read it again and retry");
            return;
        }
        await store.UploadAsync(Container, PipelineNames.CurrentModelBlob, content, "application/json", expectedETag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Model versions are <see cref="SafeId"/>s of at most <see cref="ModelManifest.MaxVersionLength"/> characters.</summary>
    public static void ValidateVersion(string version) => SafeId.Validate("model version", version, nameof(version), ModelManifest.MaxVersionLength);
}
