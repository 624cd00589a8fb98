using System.Reflection;

namespace AlexNet.Model.Interchange;

/// <summary>
/// The 1,000 classes of ImageNet's 2012 challenge (ILSVRC-2012) in the order of bvlc_alexnet's fc8: the standard
/// <c>synset_words.txt</c> (WordNet id, then the synonyms), sorted by WordNet id, embedded in this assembly.
/// </summary>
public static class ImageNetClasses
{
    public const int Count = 1000;

    private const string ResourceName = "AlexNet.Model.Interchange.imagenet-synset-words.txt";

    private static readonly Lazy<IReadOnlyList<string>> Loaded = new(Load);

    /// <summary>
    /// The class names, in fc8's order: each synset's synonyms ("tench, Tinca tinca"), cut at a comma to fit the
    /// manifest's 128 characters, and followed by the WordNet id where two synsets read the same ("crane").
    /// </summary>
    public static IReadOnlyList<string> Names => Loaded.Value;

    private static IReadOnlyList<string> Load()
    {
        using Stream stream = typeof(ImageNetClasses).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the assembly lacks its resource {ResourceName}");
        using var reader = new StreamReader(stream);
        var synsets = new List<(string Id, string Words)>(Count);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
                continue;
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            synsets.Add((line[..space], Shorten(line[(space + 1)..].Trim())));
        }
        if (synsets.Count != Count)
            throw new InvalidOperationException($"{ResourceName} holds {synsets.Count} synsets, not {Count}");
        var repeated = synsets.GroupBy(s => s.Words, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        return synsets.Select(s => repeated.Contains(s.Words) ? $"{s.Words} ({s.Id})" : s.Words).ToArray();
    }

    /// <summary>Whole synonyms up to the manifest's limit, leaving room for a WordNet id.</summary>
    private static string Shorten(string words)
    {
        const int limit = Packaging.ModelManifest.MaxClassNameLength - 12;
        if (words.Length <= limit)
            return words;
        int comma = words.LastIndexOf(", ", limit, StringComparison.Ordinal);
        return words[..comma];
    }
}
