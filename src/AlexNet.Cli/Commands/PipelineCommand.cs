using System.CommandLine;
using AlexNet.Cli.Pipeline;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Resilience;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlexNet.Cli.Commands;

/// <summary><c>alexnet pipeline</c>: the whole system on one machine, on Azurite.</summary>
public static class PipelineCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port of the HTTP API on 127.0.0.1.", DefaultValueFactory = _ => 7071 };
        var taskHub = new Option<string>("--task-hub") { Description = "Durable task hub name (3-45 letters and digits).", DefaultValueFactory = _ => "alexnetlocal" };
        var sweep = new Option<double>("--sweep-seconds") { Description = "How often incoming/ is swept for new uploads.", DefaultValueFactory = _ => 2 };
        var demo = new Option<bool>("--demo") { Description = "Run the demo (import the bundled sample, train and promote a model, label uploads through the pipeline), then exit." };
        var demoEpochs = new Option<int>("--demo-epochs") { Description = "Training epochs of the demo model.", DefaultValueFactory = _ => 12 };
        var samples = new Option<DirectoryInfo?>("--samples") { Description = "Sample folder with train/<class>/ and unlabeled/ (default: the repository's samples/fashion-mnist)." };
        var verbose = new Option<bool>("--verbose") { Description = "Log at Information level (default: warnings only)." };
        var bench = new Option<int>("--bench") { Description = "Measure the pipeline against alexnet label on N generated images, then exit (uses the promoted model, or a random-weight one)." };
        var benchBatch = new Option<int>("--bench-batch-size") { Description = "Forward batch of both sides of --bench.", DefaultValueFactory = _ => 64 };
        var benchChunk = new Option<int>("--bench-chunk-size") { Description = "Images per label request of --bench.", DefaultValueFactory = _ => 256 };
        var benchLatency = new Option<string?>("--bench-latency")
        {
            Description = $"With --bench: label the batch again with simulated service latency (a chaos latency profile: {string.Join(", ", ChaosLatencyProfiles.Names)}) and report the throughput with and without.",
        };
        var json = new Option<bool>("--json") { Description = "Print the --bench or --scale result as JSON." };
        var scale = new Option<int>("--scale") { Description = "Label N tiny generated uploads as one batch (LabelBatch), report wall time, history, memory and requests per image, then exit (scripts/scale.sh).", };
        var scaleStream = new Option<int>("--scale-stream") { Description = "Images of --scale's upload stream phase (ingested by the sweep; 0 to skip).", DefaultValueFactory = _ => -1 };
        var scalePoll = new Option<int>("--scale-poll-seconds") { Description = "How often --scale's chunk groups look for done chunks.", DefaultValueFactory = _ => 5 };
        var apiToken = new Option<string?>("--api-token")
        {
            Description = "Require this token on every /api request (Authorization: Bearer <token>); default: the ALEXNET_API_TOKEN environment variable, else none (the API still answers only 127.0.0.1, its own Host and Origin, and JSON bodies).",
        };
        var storage = new Option<string?>("--storage")
        {
            Description = "Storage account connection string for blobs, queues and the durable task hub (default: Azurite's development account, started here if none listens).",
        };

        var command = new Command("pipeline", "Run the whole pipeline on this machine: Azurite storage, ingest, worker, orchestrations and the HTTP API.\n\nExamples:\n  alexnet pipeline --demo\n  alexnet pipeline --port 7071")
        {
            port, taskHub, sweep, demo, demoEpochs, samples, verbose, bench, benchBatch, benchChunk, benchLatency, json, scale, scaleStream, scalePoll, storage, apiToken,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            double sweepSeconds = parse.GetValue(sweep);
            if (sweepSeconds is <= 0 or > 3600)
                throw new CliException("--sweep-seconds must be between 0 and 3600", CliApplication.UsageError);
            int epochs = LabelCommand.Positive(parse.GetValue(demoEpochs), "--demo-epochs");
            int benchImages = parse.GetValue(bench);
            if (benchImages < 0)
                throw new CliException("--bench must be a positive number of images", CliApplication.UsageError);
            int benchBatchSize = LabelCommand.Positive(parse.GetValue(benchBatch), "--bench-batch-size");
            int benchChunkSize = LabelCommand.Positive(parse.GetValue(benchChunk), "--bench-chunk-size");
            string? latencyProfile = parse.GetValue(benchLatency);
            if (latencyProfile is not null && ChaosLatencyProfiles.Find(latencyProfile) is null)
                throw new CliException($"--bench-latency must be one of: {string.Join(", ", ChaosLatencyProfiles.Names)} (got '{latencyProfile}')", CliApplication.UsageError);
            if (latencyProfile is not null && benchImages == 0)
                throw new CliException("--bench-latency goes with --bench N", CliApplication.UsageError);
            int scaleImages = parse.GetValue(scale);
            if (scaleImages < 0)
                throw new CliException("--scale must be a positive number of images", CliApplication.UsageError);
            int scaleStreamImages = parse.GetValue(scaleStream) is var s and >= 0 ? s : scaleImages;
            int scalePollSeconds = LabelCommand.Positive(parse.GetValue(scalePoll), "--scale-poll-seconds");
            if (benchImages > 0 || scaleImages > 0)
                sweepSeconds = 3600; // the benchmark measures the batch path alone; the sweep would label the same uploads twice
            string? connectionString = parse.GetValue(storage);
            if (connectionString is not null && string.IsNullOrWhiteSpace(connectionString))
                throw new CliException("--storage must be a storage account connection string", CliApplication.UsageError);
            string hub = parse.GetValue(taskHub)!;
            // One work folder per task hub, so two local pipelines on one machine keep their model caches apart.
            string work = Path.Combine(Path.GetTempPath(), "alexnet-pipeline", hub);
            var settings = new LocalPipelineSettings(
                parse.GetValue(port), hub, TimeSpan.FromSeconds(sweepSeconds), work,
                parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning, benchImages > 0 || scaleImages > 0 ? benchBatchSize : 64,
                connectionString ?? LocalPipelineHost.DevelopmentStorage,
                parse.GetValue(apiToken) ?? Environment.GetEnvironmentVariable("ALEXNET_API_TOKEN"),
                latencyProfile is null ? null : ChaosLatencyProfiles.Find(latencyProfile)!.Name);
            if (settings.ApiToken is { Length: < 16 })
                throw new CliException("--api-token must be at least 16 characters", CliApplication.UsageError);

            // Azurite is started here only for the development account; a given account is used as it is.
            await using Azurite? azurite = connectionString is null ? await Azurite.EnsureRunningAsync(output, cancellationToken) : null;
            WebApplication app = LocalPipelineHost.Build(settings);
            await app.StartAsync(cancellationToken);
            try
            {
                string where = azurite is null ? "the account given by --storage" : $"{LocalPipelineHost.DevelopmentStorage} (Azurite{(azurite.StartedHere ? ", started here" : "")})";
                output.WriteLine($"pipeline running: API http://127.0.0.1:{settings.Port}/api, storage {where}");
                if (benchImages > 0)
                {
                    var runner = ActivatorUtilities.CreateInstance<PipelineBench>(app.Services, output);
                    return await runner.RunAsync(benchImages, benchBatchSize, benchChunkSize, parse.GetValue(json), cancellationToken);
                }

                if (scaleImages > 0)
                {
                    var runner = ActivatorUtilities.CreateInstance<ScaleRun>(app.Services, output, settings);
                    return await runner.RunAsync(scaleImages, scaleStreamImages, benchChunkSize, scalePollSeconds, parse.GetValue(json), cancellationToken);
                }

                if (parse.GetValue(demo))
                {
                    string sampleFolder = parse.GetValue(samples)?.FullName ?? DemoRunner.FindSamples()
                        ?? throw new CliException("samples/fashion-mnist not found: run from the repository or pass --samples");
                    var runner = ActivatorUtilities.CreateInstance<DemoRunner>(app.Services, output);
                    return await runner.RunAsync(sampleFolder, epochs, settings, cancellationToken);
                }

                if (await app.Services.GetRequiredService<ModelRegistry>().GetCurrentAsync(cancellationToken) is null)
                    output.WriteLine($"no model is promoted yet, so uploads will wait unlabeled: {ModelRegistry.NoModelAdvice}");
                output.WriteLine("upload images to incoming/<batch>/ with any Azure Storage client; POST /api/batches/<batch> to label a whole batch; Ctrl+C stops");
                await app.WaitForShutdownAsync(cancellationToken);
                return 0;
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }
        });
        return command;
    }
}
