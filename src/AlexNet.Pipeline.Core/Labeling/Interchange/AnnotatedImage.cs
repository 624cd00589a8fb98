namespace AlexNet.Pipeline.Labeling.Interchange;

/// <summary>
/// One image of a labeling tool's export: the image as the tool names it (<paramref name="Source"/>: an
/// <c>azure-blob://container/name</c> address, a path, a file name) and the class a person gave it, or why it has none
/// (<paramref name="Skipped"/>: not annotated, cancelled, more than one class).
/// </summary>
public sealed record AnnotatedImage(string Source, string? Label, string? Skipped = null);

/// <summary>An export that is not of the tool's published format; the message is one line that says where and why.</summary>
public sealed class AnnotationFormatException(string message) : FormatException(message);

/// <summary>The labeling tools whose formats the pipeline writes and reads.</summary>
public static class AnnotationTools
{
    public const string LabelStudio = "label-studio";
    public const string Cvat = "cvat";

    public static IReadOnlyList<string> All { get; } = [LabelStudio, Cvat];

    /// <summary>The images of an export of <paramref name="tool"/>; throws <see cref="AnnotationFormatException"/> for a malformed one.</summary>
    public static IReadOnlyList<AnnotatedImage> Read(string tool, ReadOnlySpan<byte> export) => tool switch
    {
        LabelStudio => LabelStudioFormat.ReadExport(export),
        Cvat => CvatFormat.ReadExport(export),
        _ => throw new ArgumentException($"tool '{tool}' is not one of: {string.Join(", ", All)}", nameof(tool)),
    };

    /// <summary>The address Label Studio's Azure Blob storage resolves, and this pipeline's exports use: <c>azure-blob://container/name</c>.</summary>
    public const string AzureBlobScheme = "azure-blob://";

    public static string AzureBlobAddress(string container, string name) => $"{AzureBlobScheme}{container}/{name}";
}
