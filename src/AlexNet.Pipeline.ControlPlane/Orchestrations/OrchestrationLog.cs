using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

internal static partial class OrchestrationLog
{
    [LoggerMessage(1, LogLevel.Information, "Batch {Batch}: {Images} images in {Chunks} chunks from {Container}/{Prefix}")]
    public static partial void Chunked(ILogger logger, string batch, int images, int chunks, string container, string prefix);

    [LoggerMessage(2, LogLevel.Information, "Batch {Batch}: sent {Chunks} chunk request(s), attempt {Attempt}")]
    public static partial void ChunksSent(ILogger logger, string batch, int chunks, int attempt);

    [LoggerMessage(3, LogLevel.Warning, "Batch {Batch}: {Chunks} chunk(s) not done in time; resending, round {Attempt} of {MaxResends}")]
    public static partial void Resending(ILogger logger, string batch, int chunks, int attempt, int maxResends);

    [LoggerMessage(4, LogLevel.Information, "Batch {Batch}: planned {Images} images in {Chunks} chunks")]
    public static partial void BatchPlanned(ILogger logger, string batch, int images, int chunks);

    [LoggerMessage(5, LogLevel.Information, "Batch {Batch} done: {Images} images, {Labeled} labeled, {Rejected} rejected, {Resends} resends, {Seconds:0.0} s")]
    public static partial void BatchDone(ILogger logger, string batch, int images, int labeled, int rejected, int resends, double seconds);
}
