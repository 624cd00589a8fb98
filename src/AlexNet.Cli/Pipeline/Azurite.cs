using System.Diagnostics;
using System.Net.Sockets;

namespace AlexNet.Cli.Pipeline;

/// <summary>
/// Makes sure Azurite listens on 127.0.0.1:10000-10002: uses one already running, or starts the repository's own
/// (npm devDependency, through scripts/azurite.sh) and stops it again on dispose.
/// </summary>
internal sealed class Azurite : IAsyncDisposable
{
    private static readonly int[] Ports = [10000, 10001, 10002];
    private readonly string? script;

    private Azurite(string? script) => this.script = script;

    public bool StartedHere => script is not null;

    public static async Task<Azurite> EnsureRunningAsync(TextWriter log, CancellationToken cancellationToken)
    {
        if (Ports.All(Listening))
            return new Azurite(null);

        string script = FindScript()
            ?? throw new CliException("Azurite is not listening on 127.0.0.1:10000-10002 and scripts/azurite.sh was not found: run from the repository, or start Azurite yourself (npx azurite)");
        log.WriteLine("starting Azurite (scripts/azurite.sh start)");
        await RunAsync(script, "start", cancellationToken);
        if (!Ports.All(Listening))
            throw new CliException("Azurite did not start: see .azurite/azurite.log");
        return new Azurite(script);
    }

    public async ValueTask DisposeAsync()
    {
        if (script is not null)
            await RunAsync(script, "stop", CancellationToken.None);
    }

    private static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            return client.ConnectAsync("127.0.0.1", port).Wait(TimeSpan.FromSeconds(1)) && client.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    private static string? FindScript()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                string candidate = Path.Combine(folder.FullName, "scripts", "azurite.sh");
                if (File.Exists(candidate) && File.Exists(Path.Combine(folder.FullName, "package.json")))
                    return candidate;
            }
        }
        return null;
    }

    private static async Task RunAsync(string script, string verb, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("bash", [script, verb])
        {
            WorkingDirectory = Path.GetDirectoryName(Path.GetDirectoryName(script))!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new CliException("could not run bash scripts/azurite.sh");
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new CliException($"scripts/azurite.sh {verb} failed ({process.ExitCode}): {(await error).Trim()} {(await output).Trim()}".Trim());
    }
}
