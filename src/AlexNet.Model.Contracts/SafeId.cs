namespace AlexNet.Model;

/// <summary>
/// The one rule for ids that become a blob path segment, an orchestration instance id or a message field (batch ids,
/// dataset names, model versions, train job ids): 1 to a maximum of ASCII letters, digits, <c>-</c>, <c>_</c> or
/// <c>.</c>, and neither <c>.</c> nor <c>..</c>. Safe as a prefix, in a URL and as a folder name on any file system.
/// </summary>
public static class SafeId
{
    public const int MaxLength = 128;

    public static bool IsValid(string? value, int maxLength = MaxLength) =>
        value is { Length: > 0 } && value.Length <= maxLength && value is not "." and not ".."
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Why <paramref name="value"/> is not a <paramref name="what"/> (e.g. "batch id"), or null when it is one.</summary>
    public static string? Error(string what, string? value, int maxLength = MaxLength) =>
        string.IsNullOrEmpty(value) ? $"the {what} is empty"
        : IsValid(value, maxLength) ? null
        : $"{what} '{value}' must be 1-{maxLength} letters, digits, '-', '_' or '.'";

    /// <exception cref="ArgumentException">With <see cref="Error"/>'s sentence.</exception>
    public static void Validate(string what, string? value, string paramName, int maxLength = MaxLength)
    {
        if (Error(what, value, maxLength) is { } error)
            throw new ArgumentException(error, paramName);
    }
}
