namespace AlexNet.Pipeline.Api;

/// <summary>
/// The API's request bodies are a few options; anything larger is not one. A body is refused by its declared length
/// before a byte of it is read, and never read past the limit when it declares none (chunked) or declares too little.
/// </summary>
public static class RequestBodies
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>The body, or null when it is over <see cref="MaxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (declaredLength > MaxBytes)
            return null;

        // One byte more than the limit tells "exactly at the limit" from "over it".
        byte[] buffer = new byte[MaxBytes + 1];
        int total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            total += read;
        return total > MaxBytes ? null : buffer[..total];
    }

    /// <summary>A Content-Length header's value, or null when there is none or it is not a number.</summary>
    public static long? DeclaredLength(IEnumerable<string>? contentLength) =>
        contentLength?.FirstOrDefault() is { } text && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long length) ? length : null;
}
