using SkiaSharp;

namespace AlexNet.Model.Data;

/// <summary>Counts of one import: images written per split.</summary>
public sealed record ImportSummary(int Train, int Test, IReadOnlyList<string> Classes);

/// <summary>
/// Turns the Fashion-MNIST IDX files (Debian's <c>dataset-fashion-mnist</c>) into class folders of PNGs:
/// <c>out/train/&lt;class&gt;/&lt;n&gt;.png</c> and <c>out/test/&lt;class&gt;/&lt;n&gt;.png</c>, n being the index in the IDX file.
/// </summary>
public static class FashionMnistImporter
{
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Label 0..9 in the data set's documentation, made safe as folder names.</summary>
    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"];

    public static bool IsInstalled(string source = DebianDirectory) => Find(source, "train", "images") is not null;

    public static ImportSummary Import(string source, string output, int? limitPerClass = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(output);
        if (limitPerClass is < 1)
            throw new ArgumentOutOfRangeException(nameof(limitPerClass), limitPerClass, "limit per class must be at least 1");
        int train = ImportSplit(source, "train", Path.Combine(output, "train"), limitPerClass, cancellationToken);
        int test = ImportSplit(source, "t10k", Path.Combine(output, "test"), limitPerClass, cancellationToken);
        return new ImportSummary(train, test, ClassNames);
    }

    private static int ImportSplit(string source, string prefix, string output, int? limitPerClass, CancellationToken cancellationToken)
    {
        string imagesPath = Find(source, prefix, "images")
            ?? throw new FileNotFoundException($"no {prefix}-images-idx3-ubyte[.gz] in {source} (install the Debian package dataset-fashion-mnist)");
        string labelsPath = Find(source, prefix, "labels")
            ?? throw new FileNotFoundException($"no {prefix}-labels-idx1-ubyte[.gz] in {source}");
        var (imageShape, pixels) = IdxFile.Read(imagesPath);
        var (labelShape, labels) = IdxFile.Read(labelsPath);
        if (imageShape.Length != 3 || labelShape.Length != 1 || imageShape[0] != labelShape[0])
            throw new InvalidDataException($"{imagesPath} [{string.Join(", ", imageShape)}] and {labelsPath} [{string.Join(", ", labelShape)}] do not match");
        if (labels.Any(label => label >= ClassNames.Count))
            throw new InvalidDataException($"{labelsPath} has labels outside 0..{ClassNames.Count - 1}");

        int rows = imageShape[1], columns = imageShape[2], imageBytes = rows * columns;
        var taken = new int[ClassNames.Count];
        var selected = new List<int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (limitPerClass is { } limit && taken[labels[i]] >= limit)
                continue;
            taken[labels[i]]++;
            selected.Add(i);
        }
        foreach (string name in ClassNames)
            Directory.CreateDirectory(Path.Combine(output, name));

        var info = new SKImageInfo(columns, rows, SKColorType.Gray8, SKAlphaType.Opaque);
        Parallel.ForEach(selected, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            using var image = SKImage.FromPixelCopy(info, pixels.AsSpan(i * imageBytes, imageBytes))
                ?? throw new InvalidOperationException("Skia could not wrap a grayscale image");
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(output, ClassNames[labels[i]], $"{i:D5}.png"), png.ToArray());
        });
        return selected.Count;
    }

    private static string? Find(string source, string prefix, string kind)
    {
        string stem = Path.Combine(source, $"{prefix}-{kind}-idx{(kind == "images" ? 3 : 1)}-ubyte");
        return new[] { stem, stem + ".gz" }.FirstOrDefault(File.Exists);
    }
}
