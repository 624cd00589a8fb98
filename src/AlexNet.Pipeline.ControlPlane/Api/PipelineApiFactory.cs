using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Api;

/// <summary>
/// Makes a <see cref="PipelineApi"/> over a given orchestration client: Durable Functions binds its client per
/// invocation, so the Functions app cannot take the API itself from the container.
/// </summary>
public sealed class PipelineApiFactory(IBlobStore store, ModelRegistry models, TimeProvider time, ILogger<PipelineApi> logger)
{
    public PipelineApi Create(IOrchestrationClient orchestrations) => new(orchestrations, store, models, time, logger);
}
