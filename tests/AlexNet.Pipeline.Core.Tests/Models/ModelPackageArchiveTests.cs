using System.Formats.Tar;
using System.Text;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Labeling;

namespace AlexNet.Pipeline.Tests.Models;

/// <summary>
/// A model package as the tar body of <c>PUT /api/models/&lt;version&gt;</c>: a package round-trips; hostile archives
/// are refused with the reason, without reading past the sizes a package may have; and publishing through
/// <see cref="ModelRegistry.PublishVerifiedAsync"/> is a no-op the second time and a refusal for another package.
/// </summary>
public sealed class ModelPackageArchiveTests : IDisposable
{
    private const long Bound = 512L * 1024 * 1024;
    private readonly string root = Path.Combine(Path.GetTempPath(), $"alexnet-archive-{Guid.NewGuid():N}");

    [Fact]
    public async Task APackageRoundTripsAndATarWrittenByOthersInEitherOrderReadsToo()
    {
        ModelPackage package = LabelingFixture.Package("v1");
        using var written = new MemoryStream();
        ModelPackageArchive.Write(package, written);
        written.Position = 0;

        ModelPackage read = await ModelPackageArchive.ReadAsync(written, Bound);
        ModelPackage weightsFirst = await ModelPackageArchive.ReadAsync(Tar(
            ("./", null, TarEntryType.Directory),
            ("./" + ModelPackage.WeightsFileName, package.WeightsBytes.ToArray(), TarEntryType.RegularFile),
            ("./" + ModelPackage.ManifestFileName, package.ManifestBytes, TarEntryType.RegularFile)), Bound);

        Assert.Equal(package.Manifest.ManifestSha256, read.Manifest.ManifestSha256);
        Assert.Equal(package.WeightsBytes.ToArray(), read.WeightsBytes.ToArray());
        Assert.Equal(package.Manifest.WeightsSha256, weightsFirst.Manifest.WeightsSha256);
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "symlink", "is a SymbolicLink" },
        { "traversal", "is not a plain file name" },
        { "extra file", "which the manifest does not name" },
        { "manifest twice", "holds 'manifest.json' twice" },
        { "no weights", "has no weights.safetensors" },
        { "no manifest", "has no manifest.json" },
        { "weights too large", "bytes; a 10-class network" },
        { "flipped weights", "weights SHA-256 is" },
        { "not tar", "not a tar archive" },
        { "over the bound", "longer than the" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task AHostileArchiveIsRefusedWithItsReason(string kind, string reason)
    {
        ModelPackage package = LabelingFixture.Package("v1");
        byte[] weights = package.WeightsBytes.ToArray();
        byte[] manifest = package.ManifestBytes;
        byte[] flipped = [.. weights];
        flipped[^5] ^= 1;
        long bound = Bound;
        Stream archive = kind switch
        {
            "symlink" => Tar(("manifest.json", null, TarEntryType.SymbolicLink)),
            "traversal" => Tar(("../manifest.json", manifest, TarEntryType.RegularFile)),
            "extra file" => Tar(("manifest.json", manifest, TarEntryType.RegularFile), ("notes.txt", [1, 2, 3], TarEntryType.RegularFile)),
            "manifest twice" => Tar(("manifest.json", manifest, TarEntryType.RegularFile), ("./manifest.json", manifest, TarEntryType.RegularFile)),
            "no weights" => Tar(("manifest.json", manifest, TarEntryType.RegularFile)),
            "no manifest" => Tar((ModelPackage.WeightsFileName, weights, TarEntryType.RegularFile)),
            "weights too large" => Tar(("manifest.json", manifest, TarEntryType.RegularFile), (ModelPackage.WeightsFileName, [.. weights, .. new byte[128 * 1024]], TarEntryType.RegularFile)),
            "flipped weights" => Tar(("manifest.json", manifest, TarEntryType.RegularFile), (ModelPackage.WeightsFileName, flipped, TarEntryType.RegularFile)),
            "not tar" => new MemoryStream(Encoding.UTF8.GetBytes(new string('x', 2048))),
            "over the bound" => Tar(("manifest.json", manifest, TarEntryType.RegularFile), (ModelPackage.WeightsFileName, weights, TarEntryType.RegularFile)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        if (kind == "over the bound")
            bound = weights.Length / 2;

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => ModelPackageArchive.ReadAsync(archive, bound));

        Assert.True(error is InvalidDataException or ModelIntegrityException, error.ToString());
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishingTheSamePackageTwiceWritesNothingAndAnotherPackageUnderItsVersionIsRefused()
    {
        var registry = new ModelRegistry(new LocalFolderBlobStore(root), TimeProvider.System);
        ModelPackage package = LabelingFixture.Package("v1");

        Assert.Equal(PublishOutcome.Published, await registry.PublishVerifiedAsync(package));
        Assert.Equal(PublishOutcome.AlreadyPublished, await registry.PublishVerifiedAsync(package));
        ModelPackage other = ModelPackage.FromWeights(package.Manifest, [.. package.WeightsBytes.ToArray()[..^4], 1, 2, 3, 4]);
        ModelPackage relabeled = ModelPackage.FromWeights(package.Manifest with { CreatedAt = package.Manifest.CreatedAt.AddDays(1) }, package.WeightsBytes.ToArray());

        var clash = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PublishVerifiedAsync(other));
        var described = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PublishVerifiedAsync(relabeled));

        Assert.Contains("already published with other weights", clash.Message, StringComparison.Ordinal);
        Assert.Contains("same weights but another manifest", described.Message, StringComparison.Ordinal);
        Assert.Equal(package.Manifest.WeightsSha256, (await registry.LoadAsync("v1")).Manifest.WeightsSha256);
    }

    private static MemoryStream Tar(params (string Name, byte[]? Content, TarEntryType Type)[] entries)
    {
        var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content, type) in entries)
            {
                var entry = new PaxTarEntry(type, name);
                if (type == TarEntryType.SymbolicLink)
                    entry.LinkName = "/etc/passwd";
                if (content is not null)
                    entry.DataStream = new MemoryStream(content);
                writer.WriteEntry(entry);
            }
        }
        buffer.Position = 0;
        return buffer;
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
    }
}
