using System.Runtime.CompilerServices;

namespace AlexNet.Model.Data;

/// <summary>
/// A folder whose sub-folders are classes: <c>root/&lt;class&gt;/&lt;image&gt;</c> (images may sit in deeper folders of
/// their class). Hidden files and folders (a leading dot) are skipped.
/// </summary>
public sealed class FolderImageSource : IImageSource
{
    private readonly string root;

    public FolderImageSource(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        this.root = Path.GetFullPath(root);
        if (!Directory.Exists(this.root))
            throw new DirectoryNotFoundException($"no data folder {root}");
    }

    public string Description => root;

    public async IAsyncEnumerable<ImageEntry> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        var visible = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        foreach (string classDirectory in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            string className = Path.GetFileName(classDirectory);
            if (className.StartsWith('.'))
                continue;
            foreach (string file in Directory.EnumerateFiles(classDirectory, "*", visible))
            {
                cancellationToken.ThrowIfCancellationRequested();
                string name = Path.GetRelativePath(classDirectory, file).Replace(Path.DirectorySeparatorChar, '/');
                if (name.Split('/').Any(segment => segment.StartsWith('.')))
                    continue;
                yield return new ImageEntry(className, name, new FileInfo(file).Length);
            }
        }
    }

    public Task<byte[]> ReadAsync(ImageEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return File.ReadAllBytesAsync(Path.Combine(root, entry.Class, entry.Name), cancellationToken);
    }
}
