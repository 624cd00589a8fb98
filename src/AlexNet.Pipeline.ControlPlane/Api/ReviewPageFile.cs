namespace AlexNet.Pipeline.Api;

/// <summary>
/// The review page (<c>ReviewPage.html</c>, embedded in this assembly): one static file, served as it is by the
/// Functions app and by <c>alexnet pipeline</c> at <c>/api/review</c>, that calls the review routes beside it.
/// </summary>
public static class ReviewPageFile
{
    private const string ResourceName = "AlexNet.Pipeline.Api.ReviewPage.html";

    private static readonly Lazy<byte[]> Content = new(() =>
    {
        using Stream stream = typeof(ReviewPageFile).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the review page resource {ResourceName} is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static byte[] Bytes => Content.Value;

    /// <summary>
    /// The page's response headers: HTML, not cached across deployments, and a content security policy that lets it run
    /// its own inline script and reach only its own origin.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Content-Type"] = "text/html; charset=utf-8",
        ["Cache-Control"] = "no-cache",
        ["X-Content-Type-Options"] = "nosniff",
        ["Content-Security-Policy"] = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ["Referrer-Policy"] = "no-referrer",
    };
}
