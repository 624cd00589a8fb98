using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlexNet.Pipeline.Labeling.Interchange;

/// <summary>
/// Label Studio's JSON task format (labelstud.io/guide/task_format): a batch's labels as tasks with predictions to
/// import into a project whose labeling config is an image classification,
/// <c>&lt;Image name="image" value="$image"/&gt;&lt;Choices name="label" toName="image"&gt;</c>; and a project's JSON export
/// read back as annotated images.
/// </summary>
public static class LabelStudioFormat
{
    public const string FromName = "label";
    public const string ToName = "image";

    /// <summary>
    /// One task per record: <c>data.image</c> is the image's <c>azure-blob://</c> address (Label Studio resolves it through
    /// an Azure Blob source storage of the project), <c>data.batch</c> and <c>data.path</c> say where it came from; one
    /// prediction per record with the model version, the top-1 probability as <c>score</c> and the top-1 as a choice.
    /// </summary>
    public static byte[] WriteTasks(IEnumerable<LabelRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var tasks = new JsonArray();
        foreach (LabelRecord record in records.Where(r => r.Top5.Count > 0))
        {
            tasks.Add(new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["image"] = AnnotationTools.AzureBlobAddress(record.Image.Container, record.Image.Path),
                    ["batch"] = record.Batch,
                    ["path"] = LabelPaths.RelativeToBatch(record.Batch, record.Image.Path),
                    ["top5"] = new JsonArray([.. record.Top5.Select(s => (JsonNode)new JsonObject { ["label"] = s.Label, ["probability"] = Math.Round(s.Probability, 6) })]),
                },
                ["predictions"] = new JsonArray(new JsonObject
                {
                    ["model_version"] = record.Model.Version,
                    ["score"] = Math.Round(record.Top5[0].Probability, 6),
                    ["result"] = new JsonArray(new JsonObject
                    {
                        ["from_name"] = FromName,
                        ["to_name"] = ToName,
                        ["type"] = "choices",
                        ["value"] = new JsonObject { ["choices"] = new JsonArray(record.Top5[0].Label) },
                    }),
                }),
            });
        }
        return JsonSerializer.SerializeToUtf8Bytes(tasks, LabelStudioJsonContext.Default.JsonArray);
    }

    /// <summary>
    /// The images of a Label Studio JSON export (an array of tasks): the image is <c>data.image</c> (or the task's only
    /// string in <c>data</c>), the class the <c>choices</c> result of its newest annotation that was not cancelled.
    /// </summary>
    public static IReadOnlyList<AnnotatedImage> ReadExport(ReadOnlySpan<byte> export)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(export, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new AnnotationFormatException($"not a Label Studio JSON export: the JSON does not parse ({e.Message})");
        }
        if (root is not JsonArray tasks)
            throw new AnnotationFormatException("not a Label Studio JSON export: it must be an array of tasks");

        var images = new List<AnnotatedImage>(tasks.Count);
        for (int i = 0; i < tasks.Count; i++)
        {
            string where = $"task {i + 1}";
            if (tasks[i] is not JsonObject task)
                throw new AnnotationFormatException($"not a Label Studio JSON export: {where} is not an object");
            if (task["data"] is not JsonObject data)
                throw new AnnotationFormatException($"not a Label Studio JSON export: {where} has no 'data' object");
            string? source = ImageOf(data) ?? throw new AnnotationFormatException($"not a Label Studio JSON export: {where} names no image in 'data' (expected 'image')");
            images.Add(ReadAnnotations(where, source, task["annotations"]));
        }
        return images;
    }

    private static string? ImageOf(JsonObject data)
    {
        if (data["image"] is JsonValue image && image.TryGetValue(out string? named))
            return named;
        var strings = data.Select(p => p.Value).OfType<JsonValue>().Select(v => v.TryGetValue(out string? s) ? s : null).Where(s => s is not null).ToList();
        return strings.Count == 1 ? strings[0] : null;
    }

    private static AnnotatedImage ReadAnnotations(string where, string source, JsonNode? node)
    {
        if (node is null)
            return new AnnotatedImage(source, null, "not annotated");
        if (node is not JsonArray annotations)
            throw new AnnotationFormatException($"not a Label Studio JSON export: {where}'s 'annotations' is not an array");

        // Newest first: Label Studio lists annotations in creation order.
        for (int a = annotations.Count - 1; a >= 0; a--)
        {
            if (annotations[a] is not JsonObject annotation)
                throw new AnnotationFormatException($"not a Label Studio JSON export: {where}, annotation {a + 1} is not an object");
            if (annotation["was_cancelled"] is JsonValue cancelled && cancelled.TryGetValue(out bool wasCancelled) && wasCancelled)
                continue;
            if (annotation["result"] is not JsonArray result)
                throw new AnnotationFormatException($"not a Label Studio JSON export: {where}, annotation {a + 1} has no 'result' array");
            var choices = new List<string>();
            foreach (JsonNode? item in result)
            {
                if (item is not JsonObject region || region["type"]?.GetValueKind() != JsonValueKind.String || (string)region["type"]! != "choices")
                    continue;
                if (region["value"]?["choices"] is not JsonArray chosen || chosen.Any(c => c?.GetValueKind() != JsonValueKind.String))
                    throw new AnnotationFormatException($"not a Label Studio JSON export: {where}, annotation {a + 1} has a choices result without a 'value.choices' array of strings");
                choices.AddRange(chosen.Select(c => (string)c!));
            }
            return choices.Distinct(StringComparer.Ordinal).Count() switch
            {
                0 => new AnnotatedImage(source, null, "its annotation has no class (no choices result)"),
                1 => new AnnotatedImage(source, choices[0]),
                _ => new AnnotatedImage(source, null, $"its annotation has {choices.Distinct(StringComparer.Ordinal).Count()} classes; one is needed"),
            };
        }
        return new AnnotatedImage(source, null, annotations.Count == 0 ? "not annotated" : "every annotation was cancelled");
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonArray))]
internal sealed partial class LabelStudioJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
