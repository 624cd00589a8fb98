using System.Collections.Concurrent;

namespace AlexNet.Model.Data;

/// <summary>
/// The base images of a list of items: from memory when cached (decoded once, in parallel, at start), else read
/// and decoded on demand. Rejected items come back as null and are recorded once.
/// </summary>
public sealed class BaseImageStore
{
    private readonly BaseImageLoader loader;
    private readonly BaseImage?[]? cache;
    private readonly int parallelism;
    private readonly ConcurrentDictionary<string, RejectedImage> rejections = new(StringComparer.Ordinal);

    private BaseImageStore(IReadOnlyList<LabeledImage> items, BaseImageLoader loader, BaseImage?[]? cache, int parallelism)
    {
        Items = items;
        this.loader = loader;
        this.cache = cache;
        this.parallelism = parallelism;
    }

    public IReadOnlyList<LabeledImage> Items { get; }

    public bool IsCached => cache is not null;

    public IReadOnlyCollection<RejectedImage> Rejections => rejections.Values.ToArray();

    /// <summary>Bytes a cache of <paramref name="count"/> RGB base images takes at most.</summary>
    public static long CacheBytes(int count, int baseSize) => (long)count * baseSize * baseSize * 3;

    public static async Task<BaseImageStore> CreateAsync(
        IReadOnlyList<LabeledImage> items, BaseImageLoader loader, bool cached, int parallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(loader);
        if (!cached)
            return new BaseImageStore(items, loader, null, parallelism);
        var (images, rejected) = await loader.LoadManyAsync(items.Select(i => i.Entry).ToArray(), parallelism, cancellationToken).ConfigureAwait(false);
        var store = new BaseImageStore(items, loader, images, parallelism);
        foreach (RejectedImage rejection in rejected)
            store.rejections.TryAdd(rejection.Entry.Key, rejection);
        return store;
    }

    /// <summary>The images at <paramref name="indices"/> into <see cref="Items"/>, null where rejected.</summary>
    public async Task<BaseImage?[]> GetAsync(IReadOnlyList<int> indices, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (cache is not null)
            return indices.Select(i => cache[i]).ToArray();
        var (images, rejected) = await loader.LoadManyAsync(indices.Select(i => Items[i].Entry).ToArray(), parallelism, cancellationToken).ConfigureAwait(false);
        foreach (RejectedImage rejection in rejected)
            rejections.TryAdd(rejection.Entry.Key, rejection);
        return images;
    }

    /// <summary>Decoded images for statistics: all of them when cached, else an evenly spaced sample of at most <paramref name="sample"/>.</summary>
    public async Task<IReadOnlyList<BaseImage>> SampleAsync(int sample, CancellationToken cancellationToken = default)
    {
        if (cache is not null)
            return cache.OfType<BaseImage>().ToArray();
        int count = Math.Min(sample, Items.Count);
        int[] indices = Enumerable.Range(0, count).Select(k => (int)((long)k * Items.Count / count)).ToArray();
        return (await GetAsync(indices, cancellationToken).ConfigureAwait(false)).OfType<BaseImage>().ToArray();
    }
}
