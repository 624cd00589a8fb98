using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Api;

/// <summary>
/// The optional body of <c>POST /api/models/&lt;version&gt;/promote</c>: <see cref="Dataset"/> puts the version through
/// Retrain's gate (scored against the current model on that data set's validation images, on the worker), or
/// <see cref="Reason"/> promotes it by hand with the reason recorded in <c>models/current.json</c>. Neither: a manual
/// promotion recorded as "promoted through the API".
/// </summary>
public sealed record PromoteRequest(string? Reason = null, string? Dataset = null, double? GatePoints = null, int? PollSeconds = null);

/// <summary>A package put under <c>models/&lt;version&gt;/</c>: <see cref="Created"/> false when exactly it was there already.</summary>
public sealed record ModelPublished(string Version, bool Created, string WeightsSha256, string? ManifestSha256, long WeightsBytes, int Classes, int InputSize);

public sealed partial class PipelineApi
{
    /// <summary>
    /// The largest model upload: the paper's network at 224 with 1,000 classes is 244 MB of fp32 weights; this leaves
    /// room for more classes or a larger input. Larger packages are published with storage access (<c>--storage</c>).
    /// </summary>
    public const long MaxModelUploadBytes = 512L * 1024 * 1024;

    public const int MaxReasonLength = 500;

    /// <summary>Reads the optional body of a promote request: empty means a plain manual promotion.</summary>
    public static ApiResult<PromoteRequest?> ReadPromoteOptions(ReadOnlySpan<byte> body) =>
        ReadOptions(body, ApiJsonContext.Default.PromoteRequest, "promote");

    /// <summary>
    /// Publishes the package in <paramref name="archive"/> (<see cref="ModelPackageArchive"/>) as <paramref name="version"/>:
    /// 200 with <c>created</c> true when uploaded (and read back intact), false when exactly this package was published
    /// before; 400 for a package that does not pass its checks or names another version; 409 when another package has
    /// that version.
    /// </summary>
    public async Task<ApiResult<ModelPublished>> PublishModelAsync(string version, Stream archive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        if (VersionError(version) is { } invalid)
            return ApiResult.BadRequest<ModelPublished>(invalid);
        ModelPackage package;
        try
        {
            package = await ModelPackageArchive.ReadAsync(archive, MaxModelUploadBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is InvalidDataException or ModelIntegrityException)
        {
            return ApiResult.BadRequest<ModelPublished>($"the package was refused: {error.Message}");
        }
        if (package.Manifest.Version != version)
            return ApiResult.BadRequest<ModelPublished>($"the package's manifest names version '{package.Manifest.Version}' but the address names '{version}'");

        PublishOutcome outcome;
        try
        {
            outcome = await models.PublishVerifiedAsync(package, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelRegistryException error)
        {
            return ApiResult.Conflict<ModelPublished>(error.Message);
        }
        ModelManifest manifest = package.Manifest;
        LogPublished(logger, version, outcome);
        return ApiResult.Ok(new ModelPublished(version, outcome == PublishOutcome.Published, manifest.WeightsSha256, manifest.ManifestSha256,
            package.WeightsBytes.Length, manifest.Classes.Count, manifest.InputSize));
    }

    /// <summary>
    /// A manual promotion: with a reason, the pointer records "promoted by hand: &lt;reason&gt;". 400 for a reason that is
    /// empty, too long or has control characters, or for a request naming a data set (that is a gated promotion,
    /// <see cref="StartGatedPromotionAsync"/>).
    /// </summary>
    public async Task<ApiResult<CurrentModelPointer>> PromoteAsync(string version, PromoteRequest? request, CancellationToken cancellationToken = default)
    {
        if (request is null)
            return await PromoteAsync(version, cancellationToken).ConfigureAwait(false);
        if (request.Dataset is not null)
            return ApiResult.BadRequest<CurrentModelPointer>("a promotion through the gate (dataset) starts a run; this one promotes by hand");
        if (ReasonError(request.Reason) is { } badReason)
            return ApiResult.BadRequest<CurrentModelPointer>(badReason);
        return await PromoteWithReasonAsync(version, "promoted by hand: " + request.Reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts a published version through Retrain's gate on <c>training/&lt;dataset&gt;/</c> (a Retrain run whose candidate
    /// is that version: the worker scores it and the current model on the same validation images, the gate decides, and
    /// the run promotes it or says why not): 202 with the run, whose status is at <c>/api/retrain/runs/&lt;id&gt;</c>;
    /// 400 for a bad request, 404 for an unknown version or an empty data set, 409 when the version is current already,
    /// and the rest as <see cref="StartRetrainAsync"/> (one run per data set every 10 minutes).
    /// </summary>
    public async Task<ApiResult<RetrainStarted>> StartGatedPromotionAsync(string version, PromoteRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (VersionError(version) is { } invalid)
            return ApiResult.BadRequest<RetrainStarted>(invalid);
        if (request.Dataset is not { } dataset)
            return ApiResult.BadRequest<RetrainStarted>("a promotion through the gate needs the data set to score the model on (dataset)");
        if (request.Reason is not null)
            return ApiResult.BadRequest<RetrainStarted>("give either a dataset (the gate decides) or a reason (a promotion by hand), not both");
        ModelManifest? manifest;
        try
        {
            manifest = await models.GetManifestAsync(version, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is InvalidDataException or ModelIntegrityException)
        {
            return ApiResult.Conflict<RetrainStarted>($"model version {version} cannot be promoted: {error.Message}");
        }
        if (manifest is null)
            return ApiResult.NotFound<RetrainStarted>($"model version {version} does not exist; publish it first");
        if ((await models.GetCurrentAsync(cancellationToken).ConfigureAwait(false))?.Version == version)
            return ApiResult.Conflict<RetrainStarted>($"model version {version} is current already");

        var input = new RetrainInput(dataset, GatePoints: request.GatePoints ?? 0.5, PollSeconds: request.PollSeconds ?? 30, Candidate: version);
        return await StartRetrainAsync(dataset, force: false, input, cancellationToken).ConfigureAwait(false);
    }

    private static string? ReasonError(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
            return "a promotion by hand needs a reason (reason), recorded in models/current.json";
        if (reason.Length > MaxReasonLength)
            return $"the reason is {reason.Length} characters long, over {MaxReasonLength}";
        if (reason.Any(char.IsControl))
            return "the reason contains control characters";
        return null;
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Model {Version} uploaded: {Outcome}")]
    private static partial void LogPublished(ILogger logger, string version, PublishOutcome outcome);
}
