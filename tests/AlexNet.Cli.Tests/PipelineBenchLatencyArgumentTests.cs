namespace AlexNet.Cli.Tests;

/// <summary><c>alexnet pipeline --bench-latency</c>: a bad profile, or the option without <c>--bench</c>, is one line and exit code 2, before anything starts.</summary>
public sealed class PipelineBenchLatencyArgumentTests
{
    [Theory]
    [InlineData("--bench-latency must be one of: azure-standard (got 'azure-slow')", "--bench", "8", "--bench-latency", "azure-slow")]
    [InlineData("--bench-latency goes with --bench N", "--bench-latency", "azure-standard")]
    public async Task ABadLatencyArgumentIsOneLineAndExitCode2(string message, params string[] args)
    {
        CliRun run = await CliRun.Of(["pipeline", "--port", "7611", .. args]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"alexnet: {message}", Assert.Single(run.Error.Trim().Split('\n')));
        Assert.DoesNotContain("pipeline running", run.Output, StringComparison.Ordinal);
    }
}
