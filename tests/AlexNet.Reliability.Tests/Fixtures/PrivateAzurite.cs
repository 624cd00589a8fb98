using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AlexNet.Testing;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>
/// An Azurite of this test's own, in memory, on free ports. The worker process uses the pipeline's real container
/// names and <c>models/current.json</c> of whatever account it is given; on the shared Azurite it would swap the
/// model under anyone's local pipeline (and theirs under it), so it gets an account nobody else sees.
/// </summary>
internal sealed class PrivateAzurite : IAsyncDisposable
{
    // Azurite's published development account; its key is a documented constant, not a secret.
    private const string Account = "devstoreaccount1";
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process process;
    private readonly StringBuilder output;

    private PrivateAzurite(Process process, StringBuilder output, int blobPort, int queuePort, int tablePort)
    {
        this.process = process;
        this.output = output;
        ConnectionString = string.Create(CultureInfo.InvariantCulture,
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};BlobEndpoint=http://127.0.0.1:{blobPort}/{Account};QueueEndpoint=http://127.0.0.1:{queuePort}/{Account};TableEndpoint=http://127.0.0.1:{tablePort}/{Account};");
    }

    public string ConnectionString { get; }

    public static async Task<PrivateAzurite> StartAsync()
    {
        string azurite = Path.Combine(Repository.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
            throw new InvalidOperationException($"{azurite} is missing; bash scripts/azurite.sh start installs it (npm ci)");
        int blobPort = FreePort(), queuePort = FreePort(), tablePort = FreePort();
        var start = new ProcessStartInfo(azurite)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string argument in new[]
        {
            "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", $"{blobPort}",
            "--queueHost", "127.0.0.1", "--queuePort", $"{queuePort}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{tablePort}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start Azurite");
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azuriteInstance = new PrivateAzurite(process, output, blobPort, queuePort, tablePort);

        var deadline = Stopwatch.StartNew();
        while (!(LocalPorts.Listening(blobPort) && LocalPorts.Listening(queuePort) && LocalPorts.Listening(tablePort)))
        {
            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                await azuriteInstance.DisposeAsync();
                throw new InvalidOperationException($"private Azurite did not start: {azuriteInstance.Output}");
            }
            await Task.Delay(200);
        }
        return azuriteInstance;
    }

    public string Output
    {
        get
        {
            lock (output)
                return output.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }

    // A port the system just handed out and took back: free now, and ephemeral ports are not reused at once.
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static int AnyFreePort() => FreePort();
}
