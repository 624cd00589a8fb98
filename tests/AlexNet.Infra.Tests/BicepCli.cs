using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace AlexNet.Infra.Tests;

/// <summary>One finished run of the Bicep CLI.</summary>
internal sealed record BicepRun(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Compiler and linter findings, one line each ("file(line,col) : Warning rule: text").</summary>
    public IReadOnlyList<string> Diagnostics { get; } = BicepCli.DiagnosticLine()
        .Matches(StandardOutput + "\n" + StandardError)
        .Select(match => match.Value.Trim())
        .ToList();

    public string Describe() => Diagnostics.Count > 0
        ? $"exit code {ExitCode}\n{string.Join('\n', Diagnostics)}"
        : $"exit code {ExitCode}\n{StandardError}";
}

/// <summary>Runs the Bicep CLI that NuGet restored from Azure.Bicep.CommandLine.linux-x64.</summary>
internal static partial class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string Executable { get; } = Locate();

    public static async Task<BicepRun> RunAsync(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {Executable}.");
        using var timeout = new CancellationTokenSource(Timeout);
        var standardOutput = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var standardError = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} ran longer than {Timeout}.");
        }

        return new BicepRun(process.ExitCode, await standardOutput, await standardError);
    }

    [GeneratedRegex(@"^.*\((\d+),(\d+)\) : (Error|Warning|Info) .*$", RegexOptions.Multiline)]
    internal static partial Regex DiagnosticLine();

    private static string Locate()
    {
        var path = typeof(BicepCli).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "BicepExecutable")
            .Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new FileNotFoundException(
                "The Bicep CLI from Azure.Bicep.CommandLine.linux-x64 is missing; run dotnet restore.", path);
        }

        // NuGet does not always keep the execute bit when it extracts a package.
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if (!mode.HasFlag(UnixFileMode.UserExecute))
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }

        return path;
    }
}
