using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AlexNet.Model;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace AlexNet.Cli.Commands;

/// <summary>
/// <c>alexnet models</c>: the pipeline's model registry over its HTTP API (the local pipeline's or the Functions app's):
/// list, show, publish a package made on this machine, promote (through Retrain's gate, or by hand with a reason),
/// roll back.
/// </summary>
public static class ModelsCommand
{
    public const string DefaultApi = "http://127.0.0.1:7071";

    public static Command Create()
    {
        var command = new Command("models",
            "The pipeline's models over its HTTP API: list, show, publish, promote, rollback.\n\n" +
            "Examples:\n  alexnet models list\n  alexnet models publish runs/fmnist/model --promote --evaluate-on fashion\n" +
            "  alexnet models publish runs/fmnist/model --promote --force --reason \"hotfix for the shoe classes\"\n  alexnet models rollback");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Publish());
        command.Subcommands.Add(Promote());
        command.Subcommands.Add(Rollback());
        return command;
    }

    /// <summary>The options every subcommand takes: where the API is, its token, JSON output.</summary>
    private sealed class ApiOptions
    {
        public Option<string> Api { get; } = new("--api")
        {
            Description = "The pipeline's HTTP API: the local pipeline (alexnet pipeline --port) or the Functions app's address. Default: ALEXNET_API_URL, else " + DefaultApi + ".",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ALEXNET_API_URL") is { Length: > 0 } url ? url : DefaultApi,
        };

        public Option<string?> Token { get; } = new("--api-token")
        {
            Description = "The local pipeline's --api-token, or the Functions app's admin key for publish, promote and rollback (sent as Authorization: Bearer and x-functions-key). Default: ALEXNET_API_TOKEN.",
        };

        public Option<bool> Json { get; } = new("--json") { Description = "Print the API's JSON instead of a table." };

        public void AddTo(Command command)
        {
            command.Options.Add(Api);
            command.Options.Add(Token);
            command.Options.Add(Json);
        }

        public ModelsClient Client(ParseResult parse)
        {
            string url = parse.GetValue(Api)!;
            if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out Uri? address) || address.Scheme is not ("http" or "https"))
                throw new CliException($"--api must be an http(s) address such as {DefaultApi}, not '{url}'", CliApplication.UsageError);
            string? token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("ALEXNET_API_TOKEN");
            return new ModelsClient(address, string.IsNullOrEmpty(token) ? null : token);
        }
    }

    private static Command List()
    {
        var api = new ApiOptions();
        var command = new Command("list", "The published model versions, newest first, and which one is current.\n\nExample:\n  alexnet models list --api http://127.0.0.1:7071");
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ModelsClient client = api.Client(parse);
            var (view, json) = await client.GetAsync("api/models", ApiJsonContext.Default.ModelsView, cancellationToken);
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(api.Json))
            {
                output.WriteLine(json);
                return 0;
            }
            IAnsiConsole console = CliConsole.For(output);
            var table = new Table().Title("models").AddColumn("version").AddColumn("current").AddColumn("created").AddColumn(new TableColumn("classes").RightAligned())
                .AddColumn(new TableColumn("input").RightAligned()).AddColumn("parent").AddColumn(new TableColumn("validation top-1 error").RightAligned()).AddColumn("weights SHA-256");
            foreach (ModelView model in view.Models)
            {
                table.AddRow(Markup.Escape(model.Version), model.IsCurrent ? "yes" : "", model.CreatedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    model.Classes.ToString(CultureInfo.InvariantCulture), model.InputSize.ToString(CultureInfo.InvariantCulture), Markup.Escape(model.ParentVersion ?? ""),
                    Metric(model.Metrics, "validation_top1_error"), model.WeightsSha256[..Math.Min(12, model.WeightsSha256.Length)]);
            }
            console.Write(table);
            foreach (UnreadableModelView bad in view.Unreadable)
                console.WriteLine($"unreadable: {bad.Version}: {bad.Reason}");
            console.WriteLine(view.Current is { } current
                ? $"current: {current.Version} since {current.PromotedAt:yyyy-MM-dd HH:mm:ss} ({current.Reason}); rollback goes to {current.Earlier().FirstOrDefault() ?? "nothing"}"
                : "current: none promoted");
            return 0;
        });
        return command;
    }

    private static Command Show()
    {
        var api = new ApiOptions();
        var version = new Argument<string>("version") { Description = "The model version." };
        var command = new Command("show", "One published model version: classes, input, lineage, hashes and metrics.\n\nExample:\n  alexnet models show fashion-20261207-0415") { version };
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string name = parse.GetValue(version)!;
            if (PipelineApi.VersionError(name) is { } invalid)
                throw new CliException(invalid, CliApplication.UsageError);
            using ModelsClient client = api.Client(parse);
            var (view, _) = await client.GetAsync("api/models", ApiJsonContext.Default.ModelsView, cancellationToken);
            ModelView model = view.Models.FirstOrDefault(m => m.Version == name)
                ?? throw new CliException(view.Unreadable.FirstOrDefault(m => m.Version == name) is { } bad
                    ? $"model version {name} is published but unreadable: {bad.Reason}"
                    : $"no model version {name} is published ({view.Models.Count} are; alexnet models list)");
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(api.Json))
            {
                output.WriteLine(JsonSerializer.Serialize(model, ApiJsonContext.Default.ModelView));
                return 0;
            }
            var table = new Table().Title($"model {Markup.Escape(model.Version)}").AddColumn("field").AddColumn("value");
            table.AddRow("current", model.IsCurrent ? "yes" : "no");
            table.AddRow("created", model.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
            table.AddRow("classes", model.Classes.ToString(CultureInfo.InvariantCulture));
            table.AddRow("input size", model.InputSize.ToString(CultureInfo.InvariantCulture));
            table.AddRow("layout", model.Layout);
            table.AddRow("parent", Markup.Escape(model.ParentVersion ?? "none"));
            table.AddRow("training data", Markup.Escape(model.TrainingDataFingerprint ?? "unknown"));
            table.AddRow("weights SHA-256", model.WeightsSha256);
            table.AddRow("manifest SHA-256", model.ManifestSha256 ?? "none (unsealed)");
            foreach (var (key, value) in model.Metrics.OrderBy(p => p.Key, StringComparer.Ordinal))
                table.AddRow(Markup.Escape(key), value.ToString("G6", CultureInfo.InvariantCulture));
            CliConsole.For(output).Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>The promotion options of publish and promote, and their one-line refusals.</summary>
    private sealed class PromoteOptions
    {
        public Option<string?> EvaluateOn { get; } = new("--evaluate-on")
        {
            Description = "Promote through Retrain's gate: the worker scores this model and the current one on the validation images of training/<dataset>/ (or training/<dataset>-validation/); promoted only if it beats the majority-class baseline and is no worse than the current model.",
        };

        public Option<double> GatePoints { get; } = new("--gate-points") { Description = "Points of top-1 (and top-5 from 20 classes) error the model may lose against the current one at the gate.", DefaultValueFactory = _ => 0.5 };

        public Option<bool> Force { get; } = new("--force") { Description = "Promote without the gate; needs --reason, recorded in models/current.json." };

        public Option<string?> Reason { get; } = new("--reason") { Description = "Why the model is promoted by force (with --force)." };

        public Option<int> WaitMinutes { get; } = new("--wait-minutes") { Description = "How long to wait for the gate's verdict.", DefaultValueFactory = _ => 60 };

        public void AddTo(Command command)
        {
            command.Options.Add(EvaluateOn);
            command.Options.Add(GatePoints);
            command.Options.Add(Force);
            command.Options.Add(Reason);
            command.Options.Add(WaitMinutes);
        }

        /// <summary>The promote request, or a usage error naming what is missing or contradictory.</summary>
        public PromoteRequest Request(ParseResult parse)
        {
            string? dataset = parse.GetValue(EvaluateOn);
            bool force = parse.GetValue(Force);
            string? reason = parse.GetValue(Reason);
            double points = parse.GetValue(GatePoints);
            if (dataset is not null && force)
                throw new CliException("--evaluate-on (the gate decides) and --force (no gate) exclude each other", CliApplication.UsageError);
            if (force && string.IsNullOrWhiteSpace(reason))
                throw new CliException("--force needs --reason <text>: the reason is recorded in models/current.json", CliApplication.UsageError);
            if (!force && reason is not null)
                throw new CliException("--reason goes with --force; a gated promotion (--evaluate-on) records the gate's verdict", CliApplication.UsageError);
            if (dataset is null && !force)
                throw new CliException("promoting needs --evaluate-on <dataset> (Retrain's gate scores it against the current model) or --force --reason <text>", CliApplication.UsageError);
            if (dataset is not null && PipelineApi.DatasetError(dataset) is { } badDataset)
                throw new CliException(badDataset, CliApplication.UsageError);
            if (points is < 0 or > 100)
                throw new CliException($"--gate-points must be between 0 and 100, not {points.ToString(CultureInfo.InvariantCulture)}", CliApplication.UsageError);
            if (parse.GetValue(WaitMinutes) < 1)
                throw new CliException("--wait-minutes must be at least 1", CliApplication.UsageError);
            return dataset is not null ? new PromoteRequest(Dataset: dataset, GatePoints: points, PollSeconds: 2) : new PromoteRequest(Reason: reason);
        }

        /// <summary>True when no promotion option was given (publish without --promote must not have them).</summary>
        public bool NoneGiven(ParseResult parse) =>
            parse.GetValue(EvaluateOn) is null && !parse.GetValue(Force) && parse.GetValue(Reason) is null;
    }

    private static Command Publish()
    {
        var api = new ApiOptions();
        var promote = new PromoteOptions();
        var package = new Argument<DirectoryInfo>("package") { Description = "Model package folder (manifest.json + weights file), as alexnet train writes it." };
        var storage = new Option<string?>("--storage")
        {
            Description = "Upload straight to this storage account (connection string) instead of through the API; for packages over the API's upload limit. Promotion still goes through the API.",
        };
        var doPromote = new Option<bool>("--promote") { Description = "Promote the model after publishing: with --evaluate-on <dataset> (the gate) or --force --reason <text>." };
        var command = new Command("publish",
            "Publish a model package made on this machine into the pipeline's models/<version>/: checked here (manifest, hashes, the network loads), " +
            "uploaded, read back and checked again. The same package again is a no-op; another package under a published version is refused.\n\n" +
            "Examples:\n  alexnet models publish runs/fmnist/model --api http://127.0.0.1:7501\n" +
            "  alexnet models publish runs/fmnist/model --promote --evaluate-on fashion\n" +
            "  alexnet models publish runs/fmnist/model --promote --force --reason \"first model of the shoe team\"")
        {
            package, storage, doPromote,
        };
        api.AddTo(command);
        promote.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            DirectoryInfo folder = parse.GetValue(package)!;
            bool promoting = parse.GetValue(doPromote);
            PromoteRequest? request = promoting ? promote.Request(parse) : null;
            if (!promoting && !promote.NoneGiven(parse))
                throw new CliException("--evaluate-on, --force and --reason go with --promote", CliApplication.UsageError);
            if (!folder.Exists)
                throw new CliException($"no model package folder {folder.FullName}", CliApplication.UsageError);
            using ModelsClient client = api.Client(parse);
            ModelPackage model = LabelCommand.LoadModel(folder);
            CheckNetworkLoads(model, folder);
            TextWriter output = parse.InvocationConfiguration.Output;
            bool json = parse.GetValue(api.Json);
            string version = model.Manifest.Version;

            bool created;
            if (parse.GetValue(storage) is { } connection)
            {
                created = await PublishToStorageAsync(connection, model, cancellationToken) == PublishOutcome.Published;
                if (json)
                    output.WriteLine(JsonSerializer.Serialize(new ModelPublished(version, created, model.Manifest.WeightsSha256, model.Manifest.ManifestSha256,
                        model.WeightsBytes.Length, model.Manifest.Classes.Count, model.Manifest.InputSize), ApiJsonContext.Default.ModelPublished));
            }
            else
            {
                using var body = new MemoryStream();
                ModelPackageArchive.Write(model, body);
                body.Position = 0;
                using var content = new StreamContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue(ModelPackageArchive.ContentType);
                var (published, text) = await client.SendAsync(HttpMethod.Put, $"api/models/{Uri.EscapeDataString(version)}", content, ApiJsonContext.Default.ModelPublished, cancellationToken);
                created = published.Created;
                if (json)
                    output.WriteLine(text);
            }
            if (!json)
            {
                output.WriteLine(created
                    ? $"published model {version} ({model.Manifest.Classes.Count} classes, input {model.Manifest.InputSize}, {model.WeightsBytes.Length:N0} bytes of weights, SHA-256 {model.Manifest.WeightsSha256}): uploaded and read back intact"
                    : $"model {version} was published before with exactly this package: nothing uploaded");
            }
            return request is null ? 0 : await PromoteAsync(client, version, request, parse.GetValue(promote.WaitMinutes), json, output, cancellationToken);
        });
        return command;
    }

    private static Command Promote()
    {
        var api = new ApiOptions();
        var promote = new PromoteOptions();
        var version = new Argument<string>("version") { Description = "A published model version." };
        var command = new Command("promote",
            "Make a published version current: through Retrain's gate (--evaluate-on <dataset>) or by force with a reason.\n\n" +
            "Examples:\n  alexnet models promote fashion-laptop-3 --evaluate-on fashion\n  alexnet models promote fashion-laptop-3 --force --reason \"gate set too small\"")
        {
            version,
        };
        api.AddTo(command);
        promote.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string name = parse.GetValue(version)!;
            if (PipelineApi.VersionError(name) is { } invalid)
                throw new CliException(invalid, CliApplication.UsageError);
            PromoteRequest request = promote.Request(parse);
            using ModelsClient client = api.Client(parse);
            return await PromoteAsync(client, name, request, parse.GetValue(promote.WaitMinutes), parse.GetValue(api.Json), parse.InvocationConfiguration.Output, cancellationToken);
        });
        return command;
    }

    private static Command Rollback()
    {
        var api = new ApiOptions();
        var command = new Command("rollback", "Make the version current before this one current again (one step back through the history).\n\nExample:\n  alexnet models rollback");
        api.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ModelsClient client = api.Client(parse);
            var (pointer, text) = await client.SendAsync(HttpMethod.Post, "api/models/rollback", null, ApiJsonContext.Default.CurrentModelPointer, cancellationToken);
            TextWriter output = parse.InvocationConfiguration.Output;
            output.WriteLine(parse.GetValue(api.Json) ? text : $"current model: {pointer.Version} ({pointer.Reason}); the next rollback goes to {pointer.Earlier().FirstOrDefault() ?? "nothing"}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A manual promotion answers with the new pointer; a gated one starts a Retrain run, whose verdict is awaited: 0
    /// when promoted, 1 when refused or rejected (the reason printed), or when the run failed.
    /// </summary>
    private static async Task<int> PromoteAsync(ModelsClient client, string version, PromoteRequest request, int waitMinutes, bool json, TextWriter output, CancellationToken cancellationToken)
    {
        using var body = new StringContent(JsonSerializer.Serialize(request, ApiJsonContext.Default.PromoteRequest), Encoding.UTF8, "application/json");
        string path = $"api/models/{Uri.EscapeDataString(version)}/promote";
        if (request.Dataset is null)
        {
            var (pointer, text) = await client.SendAsync(HttpMethod.Post, path, body, ApiJsonContext.Default.CurrentModelPointer, cancellationToken);
            output.WriteLine(json ? text : $"promoted model {pointer.Version} by force ({pointer.Reason}); rollback goes to {pointer.Earlier().FirstOrDefault() ?? "nothing"}");
            return 0;
        }

        // The local pipeline answers with the run (instanceId), the Functions app with its status address (id).
        string answer = await client.SendTextAsync(HttpMethod.Post, path, body, cancellationToken);
        string runId;
        using (JsonDocument document = JsonDocument.Parse(answer))
        {
            runId = (document.RootElement.TryGetProperty("instanceId", out JsonElement instance) ? instance.GetString()
                : document.RootElement.TryGetProperty("id", out JsonElement id) ? id.GetString() : null)
                ?? throw new CliException($"POST /{path}: the answer names no run: {answer}");
        }
        if (!json)
            output.WriteLine($"gating model {version} on training/{request.Dataset}/ as run {runId} (status: /api/retrain/runs/{runId})");
        DateTimeOffset deadline = DateTimeOffset.UtcNow.AddMinutes(waitMinutes);
        while (true)
        {
            var (status, text) = await client.GetAsync($"api/retrain/runs/{Uri.EscapeDataString(runId)}", ApiJsonContext.Default.RetrainStatusView, cancellationToken);
            if (status.State is OrchestrationState.Completed or OrchestrationState.Failed or OrchestrationState.Terminated)
            {
                if (json)
                    output.WriteLine(text);
                if (status.Result is { } result)
                {
                    if (!json)
                        output.WriteLine($"model {version} {result.Outcome.ToString().ToLowerInvariant()}: {result.Reason}");
                    return result.Outcome == RetrainOutcome.Promoted ? 0 : CliApplication.Failure;
                }
                throw new CliException($"the gate run {runId} ended {status.State}: {status.Failure ?? "no reason given"}");
            }
            if (DateTimeOffset.UtcNow > deadline)
                throw new CliException($"the gate run {runId} has not decided within {waitMinutes} minutes (state {status.State}); its status: /api/retrain/runs/{runId}");
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }
    }

    /// <summary>Builds the network from the weights once, so a package whose tensors do not fit is refused here, not in the worker.</summary>
    private static void CheckNetworkLoads(ModelPackage model, DirectoryInfo folder)
    {
        try
        {
            using AlexNetNetwork network = model.CreateNetwork();
        }
        catch (InvalidDataException error)
        {
            throw new CliException($"model {folder.FullName} cannot be used: its weights do not load: {error.Message}", CliApplication.UsageError);
        }
    }

    private static async Task<PublishOutcome> PublishToStorageAsync(string connection, ModelPackage model, CancellationToken cancellationToken)
    {
        BlobServiceClient service;
        try
        {
            service = new BlobServiceClient(connection);
        }
        catch (Exception error) when (error is FormatException or ArgumentException)
        {
            throw new CliException($"--storage is not a storage connection string: {error.Message}", CliApplication.UsageError);
        }
        var registry = new ModelRegistry(new AzureBlobStore(service, NullLogger<AzureBlobStore>.Instance), TimeProvider.System);
        try
        {
            return await registry.PublishVerifiedAsync(model, cancellationToken);
        }
        catch (ModelRegistryException error)
        {
            throw new CliException(error.Message);
        }
        catch (Azure.RequestFailedException error)
        {
            throw new CliException($"storage refused the upload: {error.Status} {error.ErrorCode}");
        }
        catch (Exception error) when (error is HttpRequestException or AggregateException)
        {
            throw new CliException($"cannot reach the storage account: {error.Message}");
        }
    }

    private static string Metric(IReadOnlyDictionary<string, double> metrics, string name) =>
        metrics.TryGetValue(name, out double value) ? value.ToString("P2", CultureInfo.InvariantCulture) : "";

    /// <summary>HTTP to the pipeline's API: the token on every request, an error answer or an unreachable API as one line.</summary>
    private sealed class ModelsClient : IDisposable
    {
        private readonly HttpClient http;
        private readonly Uri address;

        public ModelsClient(Uri address, string? token)
        {
            this.address = address;
            http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(10) };
            if (token is not null)
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                http.DefaultRequestHeaders.Add("x-functions-key", token);
            }
        }

        public Task<(T Value, string Json)> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
            SendAsync(HttpMethod.Get, path, null, type, cancellationToken);

        public async Task<(T Value, string Json)> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        {
            string text = await SendTextAsync(method, path, content, cancellationToken);
            try
            {
                T value = JsonSerializer.Deserialize(text, type) ?? throw new JsonException("empty answer");
                return (value, Pretty(text));
            }
            catch (JsonException error)
            {
                throw new CliException($"{method} /{path}: the answer is not what this version of alexnet expects ({error.Message}); is {address} an AlexNet pipeline?");
            }
        }

        /// <summary>The answer's text on success; otherwise the API's error (or why there was no answer) as a <see cref="CliException"/>.</summary>
        public async Task<string> SendTextAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException error)
            {
                throw new CliException($"cannot reach the pipeline API at {address}: {error.Message} (is alexnet pipeline running? --api names another address)");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CliException($"the pipeline API at {address} did not answer {method} /{path} within {http.Timeout.TotalMinutes:F0} minutes");
            }
            using (response)
            {
                string text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                    throw new CliException($"{method} /{path}: {(int)response.StatusCode} {ErrorOf(text, response.StatusCode)}");
                return text;
            }
        }

        private static string ErrorOf(string text, HttpStatusCode status)
        {
            try
            {
                if (JsonSerializer.Deserialize(text, ApiJsonContext.Default.ApiError) is { Error: { Length: > 0 } error })
                    return error;
            }
            catch (JsonException)
            {
            }
            return status == HttpStatusCode.Unauthorized ? "the API needs a token (--api-token or ALEXNET_API_TOKEN)" : text.Length > 200 ? text[..200] : text;
        }

        private static string Pretty(string text)
        {
            using JsonDocument document = JsonDocument.Parse(text);
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
                document.WriteTo(writer);
            return Encoding.UTF8.GetString(buffer.ToArray());
        }

        public void Dispose() => http.Dispose();
    }
}
