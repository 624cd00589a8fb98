using System.Runtime.CompilerServices;
using AlexNet.Model.Data;
using AlexNet.Pipeline.Contracts;

namespace AlexNet.Pipeline.Storage;

/// <summary>
/// A labeled training set in blob storage, <c>training/&lt;dataset&gt;/&lt;class&gt;/&lt;file&gt;</c>, as the model
/// library's <see cref="IImageSource"/>. Blobs directly under the data set (no class folder) are not images of it.
/// </summary>
public sealed class TrainingSetSource(IBlobStore store, string dataset, string container = PipelineNames.TrainingContainer) : IImageSource
{
    private readonly string prefix = dataset.TrimEnd('/') + "/";

    public string Description => $"{container}/{prefix}";

    public async IAsyncEnumerable<ImageEntry> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (BlobEntry entry in store.ListAsync(container, prefix, cancellationToken).ConfigureAwait(false))
        {
            string relative = entry.Name[prefix.Length..];
            int slash = relative.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && slash < relative.Length - 1)
                yield return new ImageEntry(relative[..slash], relative[(slash + 1)..], entry.Size);
        }
    }

    public async Task<byte[]> ReadAsync(ImageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        BlobDownload download = await store.DownloadAsync(container, prefix + entry.Key, cancellationToken).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"{Description}{entry.Key} no longer exists");
        return download.Content.ToArray();
    }
}
