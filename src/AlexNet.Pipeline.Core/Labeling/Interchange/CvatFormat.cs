using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace AlexNet.Pipeline.Labeling.Interchange;

/// <summary>An image's width and height in pixels.</summary>
public readonly record struct ImageSize(int Width, int Height);

/// <summary>
/// CVAT's XML annotation format 1.1 for images ("CVAT for images 1.1", docs.cvat.ai/docs/other/xml_format): a batch's
/// top-1 labels as image tags to upload into a CVAT task created from the batch's images, and a task's export read back
/// as annotated images.
/// </summary>
public static class CvatFormat
{
    /// <summary>
    /// An <c>&lt;annotations&gt;</c> document of version 1.1 in annotation mode: the classes as the task's labels, and one
    /// <c>&lt;image id name&gt;</c> per record, named by its path within the batch (as a task made of the batch folder
    /// names it), with one <c>&lt;tag label source="auto"&gt;</c> for the model's top-1. Each image has the
    /// <c>width</c> and <c>height</c> the format gives images in annotation mode when <paramref name="sizes"/> (by the
    /// image's blob path) knows them; an image whose size could not be read has neither.
    /// </summary>
    public static byte[] WriteTags(
        string batch, IEnumerable<LabelRecord> records, IEnumerable<string> classes, DateTimeOffset dumped, IReadOnlyDictionary<string, ImageSize>? sizes = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        List<LabelRecord> labeled = [.. records.Where(r => r.Top5.Count > 0).OrderBy(r => r.Image.Path, StringComparer.Ordinal)];
        var document = new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement("annotations",
                new XElement("version", "1.1"),
                new XElement("meta",
                    new XElement("task",
                        new XElement("name", batch),
                        new XElement("size", labeled.Count),
                        new XElement("mode", "annotation"),
                        new XElement("labels", classes.Select(c => new XElement("label", new XElement("name", c), new XElement("attributes"))))),
                    new XElement("dumped", dumped.ToString("yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture))),
                labeled.Select((record, index) => new XElement("image",
                    new XAttribute("id", index),
                    new XAttribute("name", LabelPaths.RelativeToBatch(batch, record.Image.Path)),
                    sizes is not null && sizes.TryGetValue(record.Image.Path, out ImageSize size)
                        ? new object[] { new XAttribute("width", size.Width), new XAttribute("height", size.Height) }
                        : null,
                    new XElement("tag", new XAttribute("label", record.Top5[0].Label), new XAttribute("source", "auto"))))));
        using var buffer = new MemoryStream();
        using (var writer = XmlWriter.Create(buffer, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true }))
            document.Save(writer);
        return buffer.ToArray();
    }

    /// <summary>
    /// The images of a CVAT for images export: each <c>&lt;image name&gt;</c> with its tag's label (a manual tag before an
    /// automatic one). DTDs are refused, so an export cannot make the reader fetch or expand anything.
    /// </summary>
    public static IReadOnlyList<AnnotatedImage> ReadExport(ReadOnlySpan<byte> export)
    {
        XDocument document;
        try
        {
            using var stream = new MemoryStream(export.ToArray());
            using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = 256L * 1024 * 1024 });
            document = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw new AnnotationFormatException($"not a CVAT XML export: {e.Message}");
        }

        XElement root = document.Root!;
        if (root.Name != "annotations")
            throw new AnnotationFormatException($"not a CVAT XML export: the root element is <{root.Name}>, not <annotations>");
        if (root.Element("version")?.Value is { } version && !version.StartsWith("1.", StringComparison.Ordinal))
            throw new AnnotationFormatException($"not a CVAT XML export of format 1.x: version {version}");
        if (root.Elements("track").Any())
            throw new AnnotationFormatException("a CVAT for video export (<track>): export the task as \"CVAT for images 1.1\"");

        var images = new List<AnnotatedImage>();
        foreach (XElement image in root.Elements("image"))
        {
            int line = ((IXmlLineInfo)image).LineNumber;
            string? name = image.Attribute("name")?.Value;
            if (string.IsNullOrEmpty(name))
                throw new AnnotationFormatException($"not a CVAT XML export: the <image> on line {line} has no name");
            var tags = image.Elements("tag").ToList();
            if (tags.Any(t => string.IsNullOrEmpty(t.Attribute("label")?.Value)))
                throw new AnnotationFormatException($"not a CVAT XML export: a <tag> of image '{name}' (line {line}) has no label");
            var labels = tags.OrderBy(t => t.Attribute("source")?.Value == "manual" ? 0 : 1).Select(t => t.Attribute("label")!.Value).Distinct(StringComparer.Ordinal).ToList();
            images.Add(labels.Count switch
            {
                0 => new AnnotatedImage(name, null, image.HasElements ? "no tag (only shapes)" : "not annotated"),
                1 => new AnnotatedImage(name, labels[0]),
                _ when tags.Count(t => t.Attribute("source")?.Value == "manual") == 1 => new AnnotatedImage(name, labels[0]),
                _ => new AnnotatedImage(name, null, $"{labels.Count} tags; one is needed"),
            });
        }
        return images;
    }
}
