using System.Diagnostics;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>
/// A host of this repository as its own process: the worker (<c>dotnet AlexNet.Pipeline.Worker.dll</c>, configured by
/// environment variables as a container would be) or the <c>alexnet</c> command; its output appended to a log file.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private WorkerProcess(Process process, StreamWriter log)
    {
        this.process = process;
        this.log = log;
    }

    public bool HasExited => process.HasExited;

    public int Id => process.Id;

    public static WorkerProcess Start(IReadOnlyDictionary<string, string> environment, string logFile) =>
        Start(Repository.WorkerAssembly, [], environment, logFile);

    /// <param name="assembly">The host's dll; its folder is the working directory (the content root).</param>
    public static WorkerProcess Start(string assembly, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string logFile)
    {
        if (!File.Exists(assembly))
            throw new InvalidOperationException($"{assembly} is missing: build the solution (dotnet build builds it with this project)");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The content root: appsettings.json is read from here, as in the container.
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        start.ArgumentList.Add(assembly);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);

        // Nothing from the test runner's environment decides the worker's settings, only what the test gives it.
        foreach (string inherited in start.Environment.Keys.Where(k => k.Contains("__", StringComparison.Ordinal) || k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(inherited);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        var writer = new StreamWriter(logFile, append: true) { AutoFlush = true };
        writer.WriteLine($"--- {Path.GetFileNameWithoutExtension(assembly)} start {DateTime.UtcNow:O}");
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.OutputDataReceived += (_, e) => Write(writer, e.Data);
        process.ErrorDataReceived += (_, e) => Write(writer, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, writer);
    }

    /// <summary>SIGKILL to the whole process tree: no shutdown code runs, no message is abandoned, no lock released.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        Write(log, $"--- process killed {DateTime.UtcNow:O}");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
        lock (log)
            log.Dispose();
    }

    private static void Write(StreamWriter writer, string? line)
    {
        if (line is null)
            return;
        lock (writer)
        {
            try
            {
                writer.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after the log was closed is from a process being torn down.
            }
        }
    }
}
