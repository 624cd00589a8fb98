using System.Security.Cryptography;
using System.Text;

namespace AlexNet.Model.Data;

/// <summary>An entry with its class index into <see cref="ImageDataSet.Classes"/>.</summary>
public sealed record LabeledImage(ImageEntry Entry, int Label);

/// <summary>
/// The listing of a source: classes in ordinal order (a class's index is its output unit), items sorted by key,
/// and a fingerprint of names and sizes that changes whenever an image is added, removed, renamed or resized.
/// </summary>
public sealed class ImageDataSet
{
    private ImageDataSet(IImageSource source, IReadOnlyList<string> classes, IReadOnlyList<LabeledImage> items)
    {
        Source = source;
        Classes = classes;
        Items = items;
    }

    public IImageSource Source { get; }

    public IReadOnlyList<string> Classes { get; }

    public IReadOnlyList<LabeledImage> Items { get; }

    /// <summary>SHA-256 of the sorted <c>class/name</c> keys and their byte lengths.</summary>
    public string Fingerprint => Fingerprints.Of(Items);

    public static async Task<ImageDataSet> ListAsync(IImageSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var entries = new List<ImageEntry>();
        await foreach (ImageEntry entry in source.ListAsync(cancellationToken))
            entries.Add(entry);
        string[] classes = entries.Select(e => e.Class).Distinct().Order(StringComparer.Ordinal).ToArray();
        var index = classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var items = entries
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => new LabeledImage(e, index[e.Class]))
            .ToArray();
        return new ImageDataSet(source, classes, items);
    }

    /// <summary>
    /// Labels of this listing against another class list (a model's): an item of a class the list lacks is an
    /// error, so a model is never scored on classes it cannot name.
    /// </summary>
    public IReadOnlyList<LabeledImage> RelabelFor(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        var index = classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        string[] unknown = Classes.Where(c => !index.ContainsKey(c)).ToArray();
        if (unknown.Length > 0)
            throw new InvalidDataException($"{Source.Description} has classes the model does not know: {string.Join(", ", unknown)}");
        return Items.Select(item => item with { Label = index[item.Entry.Class] }).ToArray();
    }

    /// <summary>
    /// A deterministic split: within each class, a seeded shuffle puts <paramref name="validationFraction"/> of the
    /// items (at least one where the class has two or more) into validation. Same items and seed, same split.
    /// </summary>
    public DataSplit Split(double validationFraction, int seed)
    {
        if (validationFraction is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "validation fraction must be in [0, 1)");
        var train = new List<LabeledImage>();
        var validation = new List<LabeledImage>();
        foreach (var group in Items.GroupBy(item => item.Label).OrderBy(g => g.Key))
        {
            LabeledImage[] members = group.ToArray();
            new Random(Seeds.Derive(seed, 0x5711, group.Key)).Shuffle(members);
            int held = validationFraction == 0 ? 0 : Math.Max(members.Length > 1 ? 1 : 0, (int)Math.Round(members.Length * validationFraction));
            validation.AddRange(members.Take(held));
            train.AddRange(members.Skip(held));
        }
        return new DataSplit(Sorted(train), Sorted(validation));

        static LabeledImage[] Sorted(List<LabeledImage> items) =>
            items.OrderBy(item => item.Entry.Key, StringComparer.Ordinal).ToArray();
    }

    /// <summary>At most <paramref name="perClass"/> items of each class, the first in key order.</summary>
    public ImageDataSet Limit(int perClass)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        LabeledImage[] kept = Items.GroupBy(item => item.Label).SelectMany(g => g.Take(perClass))
            .OrderBy(item => item.Entry.Key, StringComparer.Ordinal).ToArray();
        return new ImageDataSet(Source, Classes, kept);
    }
}

/// <summary>Training and validation items of one data set.</summary>
public sealed record DataSplit(IReadOnlyList<LabeledImage> Train, IReadOnlyList<LabeledImage> Validation);

internal static class Fingerprints
{
    public static string Of(IEnumerable<LabeledImage> items)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (LabeledImage item in items.OrderBy(i => i.Entry.Key, StringComparer.Ordinal))
            hash.AppendData(Encoding.UTF8.GetBytes($"{item.Entry.Key}\n{item.Entry.Length}\n"));
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
