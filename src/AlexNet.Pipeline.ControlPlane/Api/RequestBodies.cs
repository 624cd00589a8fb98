namespace AlexNet.Pipeline.Api;

/// <summary>
/// The API's request bodies are a few options; anything larger is not one. A body is refused by its declared length
/// before a byte of it is read, and never read past the limit when it declares none (chunked) or declares too little.
/// </summary>
public static class RequestBodies
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>A labeling tool's export posted for import: its own, larger bound.</summary>
    public const int MaxExportBytes = 16 * 1024 * 1024;

    /// <summary>The body, or null when it is over <see cref="MaxBytes"/>.</summary>
    public static Task<byte[]?> ReadAsync(Stream body, long? declaredLength, CancellationToken cancellationToken = default) =>
        ReadAsync(body, declaredLength, MaxBytes, cancellationToken);

    /// <summary>The body, or null when it is over <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (declaredLength > maxBytes)
            return null;

        // One byte more than the limit tells "exactly at the limit" from "over it". A large bound grows the buffer as
        // the body arrives instead of allocating it whole for a small body.
        if (maxBytes > MaxBytes)
        {
            using var grown = new MemoryStream();
            byte[] chunk = new byte[81920];
            int n;
            while (grown.Length <= maxBytes && (n = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, maxBytes + 1 - grown.Length)), cancellationToken).ConfigureAwait(false)) > 0)
                grown.Write(chunk, 0, n);
            return grown.Length > maxBytes ? null : grown.ToArray();
        }

        byte[] buffer = new byte[maxBytes + 1];
        int total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            total += read;
        return total > maxBytes ? null : buffer[..total];
    }

    /// <summary>A Content-Length header's value, or null when there is none or it is not a number.</summary>
    public static long? DeclaredLength(IEnumerable<string>? contentLength) =>
        contentLength?.FirstOrDefault() is { } text && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long length) ? length : null;
}
