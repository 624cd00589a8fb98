using System.CommandLine;
using AlexNet.Cli.Commands;

namespace AlexNet.Cli;

/// <summary>The <c>alexnet</c> command: its verbs, and how errors reach the person at the terminal.</summary>
public static class CliApplication
{
    public const int UsageError = 2;
    public const int Failure = 1;

    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("AlexNet.Pipeline: train, evaluate and run the 2012 AlexNet for bulk top-5 image labeling.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(LabelCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(ImportWeightsCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(PipelineCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        return root;
    }

    /// <summary>How long a cancelled command may take to finish cleanly before the process is ended.</summary>
    public static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        ParseResult parse = CreateRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One clear line, not a page of usage: the person asked for --help if they want it.
            error.WriteLine($"alexnet: {parse.Errors[0].Message} (see 'alexnet {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(1))} --help')".Replace("  (", " (", StringComparison.Ordinal));
            return UsageError;
        }

        try
        {
            // Ctrl+C or SIGTERM cancels the command, which then checkpoints (train) or stops its hosts (pipeline); the
            // process is ended only if that takes longer than this (a 160 MB checkpoint under load takes seconds).
            var invocation = new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = TerminationGrace,
            };
            return await parse.InvokeAsync(invocation);
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("alexnet: cancelled");
            return 130;
        }
        catch (CliException failure)
        {
            error.WriteLine($"alexnet: {failure.Message}");
            return failure.ExitCode;
        }
        catch (Exception failure) when (failure is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            error.WriteLine($"alexnet: {failure.Message}");
            return Failure;
        }
    }
}

/// <summary>An expected failure with a message for the person at the terminal and an exit code.</summary>
public sealed class CliException(string message, int exitCode = CliApplication.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
