namespace AlexNet.Pipeline.Api;

/// <summary>
/// The answer of a <see cref="PipelineApi"/> call, in HTTP terms so every host maps it the same way: a status code,
/// the value on success, one sentence saying what was wrong otherwise.
/// </summary>
public sealed record ApiResult<T>(int StatusCode, T? Value, string? Error)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;
}

/// <summary>Factory methods for <see cref="ApiResult{T}"/>, named after the status codes.</summary>
public static class ApiResult
{
    public static ApiResult<T> Ok<T>(T value) => new(200, value, null);

    public static ApiResult<T> Accepted<T>(T value) => new(202, value, null);

    public static ApiResult<T> BadRequest<T>(string error) => new(400, default, error);

    public static ApiResult<T> NotFound<T>(string error) => new(404, default, error);

    public static ApiResult<T> Conflict<T>(string error) => new(409, default, error);

    public static ApiResult<T> PayloadTooLarge<T>(string error) => new(413, default, error);

    public static ApiResult<T> TooManyRequests<T>(string error) => new(429, default, error);
}

/// <summary>The body of an error answer.</summary>
public sealed record ApiError(int Status, string Error);
