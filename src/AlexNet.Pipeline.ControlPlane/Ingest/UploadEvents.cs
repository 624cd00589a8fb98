using System.Text;
using System.Text.Json;

namespace AlexNet.Pipeline.Ingest;

/// <summary>A blob that a storage event says was created.</summary>
public sealed record CreatedBlob(string Container, string Name);

/// <summary>
/// Reads storage <c>Microsoft.Storage.BlobCreated</c> events as Event Grid delivers them to a queue or a webhook:
/// Event Grid schema (<c>eventType</c>) or CloudEvents (<c>type</c>), one event or an array, the JSON either plain or
/// Base64-encoded (queue messages). The blob comes from the subject,
/// <c>/blobServices/default/containers/&lt;container&gt;/blobs/&lt;name&gt;</c>, which carries the name unescaped.
/// </summary>
public static class UploadEvents
{
    public const string BlobCreatedType = "Microsoft.Storage.BlobCreated";

    private const string ContainersMarker = "/containers/";
    private const string BlobsMarker = "/blobs/";

    /// <summary>The created blobs the message names; other event types are ignored. Throws <see cref="FormatException"/> for a message that is not an event.</summary>
    public static IReadOnlyList<CreatedBlob> Parse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string json = message.TrimStart();
        if (!json.StartsWith('{') && !json.StartsWith('['))
            json = DecodeBase64(message.Trim());

        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            var blobs = new List<CreatedBlob>();
            if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement item in root.EnumerateArray())
                    AddIfCreated(item, blobs);
            }
            else
            {
                AddIfCreated(root, blobs);
            }

            return blobs;
        }
        catch (JsonException e)
        {
            throw new FormatException($"the message is not an event: {e.Message}", e);
        }
    }

    private static void AddIfCreated(JsonElement item, List<CreatedBlob> blobs)
    {
        if (item.ValueKind != JsonValueKind.Object)
            throw new FormatException($"an event must be a JSON object, not {item.ValueKind}");
        string? type = Text(item, "eventType") ?? Text(item, "type");
        if (!string.Equals(type, BlobCreatedType, StringComparison.Ordinal))
            return;
        string subject = Text(item, "subject") ?? throw new FormatException("a BlobCreated event has no subject");
        blobs.Add(FromSubject(subject));
    }

    /// <summary>Container and name from <c>/blobServices/default/containers/&lt;container&gt;/blobs/&lt;name&gt;</c>.</summary>
    public static CreatedBlob FromSubject(string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        int containers = subject.IndexOf(ContainersMarker, StringComparison.Ordinal);
        int blobs = containers < 0 ? -1 : subject.IndexOf(BlobsMarker, containers + ContainersMarker.Length, StringComparison.Ordinal);
        if (blobs < 0 || blobs + BlobsMarker.Length >= subject.Length)
            throw new FormatException($"'{subject}' is not a blob event subject (/blobServices/default/containers/<container>/blobs/<name>)");
        string container = subject[(containers + ContainersMarker.Length)..blobs];
        return new CreatedBlob(container, subject[(blobs + BlobsMarker.Length)..]);
    }

    private static string? Text(JsonElement item, string property) =>
        item.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string DecodeBase64(string text)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException e)
        {
            throw new FormatException("the message is neither JSON nor Base64-encoded JSON", e);
        }
    }
}
