using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// Warnings and errors of the engine and the activities in the test's output; with ORCH_TEST_LOG=1 also the
/// framework's information messages (every message, timer and replay), to see why an orchestration hangs.
/// </summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class TestOutputLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= (Environment.GetEnvironmentVariable("ORCH_TEST_LOG") == "1" ? LogLevel.Information : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The engine may log after the test has finished; xunit refuses output then.
            }
        }
    }
}
