namespace AlexNet.Pipeline.Storage;

/// <summary>
/// Azure's limits on blob index tags. The local store enforces them too, so code that works against a
/// folder does not fail for the first time in Azure.
/// </summary>
public static class BlobTagRules
{
    public const int MaxTags = 10;
    public const int MaxKeyLength = 128;
    public const int MaxValueLength = 256;

    public static void Validate(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count > MaxTags)
        {
            throw new ArgumentException($"A blob can carry at most {MaxTags} tags; got {tags.Count}.", nameof(tags));
        }

        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > MaxKeyLength || !key.All(IsAllowed))
            {
                throw new ArgumentException($"Tag name '{key}' must be 1-{MaxKeyLength} letters, digits, spaces or + - . / : = _.", nameof(tags));
            }

            if (value is null || value.Length > MaxValueLength || !value.All(IsAllowed))
            {
                throw new ArgumentException($"Value of tag '{key}' must be 0-{MaxValueLength} letters, digits, spaces or + - . / : = _.", nameof(tags));
            }
        }
    }

    /// <summary>A tag value for any text: each character a tag cannot hold becomes '_', cut to <see cref="MaxValueLength"/>.</summary>
    public static string ToValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string cleaned = new([.. value.Select(c => IsAllowed(c) ? c : '_')]);
        return cleaned.Length > MaxValueLength ? cleaned[..MaxValueLength] : cleaned;
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is ' ' or '+' or '-' or '.' or '/' or ':' or '=' or '_';
}
