using System.Net;
using System.Net.Sockets;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;

namespace AlexNet.Cli.Tests;

/// <summary>
/// <c>alexnet models</c>: a bad argument or an API that does not answer gives one line on stderr and a non-zero exit,
/// before anything is uploaded. (Publishing into a running pipeline: AlexNet.Reliability.Tests' ModelPublishTests.)
/// </summary>
public sealed class ModelsCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("alexnet-models-").FullName;

    public static TheoryData<string[], string> BadArguments => new()
    {
        { ["models", "list", "--api", "ftp://example.org"], "--api must be an http(s) address" },
        { ["models", "list", "--api", "not a url"], "--api must be an http(s) address" },
        { ["models", "show", "../v1"], "model version" },
        { ["models", "promote", "v1"], "promoting needs --evaluate-on <dataset>" },
        { ["models", "promote", "v1", "--force"], "--force needs --reason" },
        { ["models", "promote", "v1", "--reason", "why"], "--reason goes with --force" },
        { ["models", "promote", "v1", "--force", "--reason", "why", "--evaluate-on", "fashion"], "exclude each other" },
        { ["models", "promote", "v1", "--evaluate-on", "a/b"], "dataset" },
        { ["models", "promote", "v1", "--evaluate-on", "fashion", "--gate-points", "101"], "--gate-points must be between 0 and 100" },
        { ["models", "publish", "/nonexistent/package"], "no model package folder" },
        { ["models", "publish", "/tmp", "--force", "--reason", "x"], "go with --promote" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task ABadArgumentIsOneLineAndExitCode2(string[] arguments, string expected)
    {
        CliRun run = await CliRun.Of(arguments);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableApiIsOneLineAndExitCode1()
    {
        string api = $"http://127.0.0.1:{FreePort()}";

        CliRun list = await CliRun.Of("models", "list", "--api", api);
        CliRun rollback = await CliRun.Of("models", "rollback", "--api", api);
        CliRun publish = await CliRun.Of("models", "publish", SavePackage("v1"), "--api", api);

        foreach (CliRun run in new[] { list, rollback, publish })
        {
            Assert.Equal(1, run.ExitCode);
            Assert.Single(run.Error.Trim().Split('\n'));
            Assert.Contains($"cannot reach the pipeline API at {api}/", run.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ATamperedPackageIsRefusedBeforeAnyRequest()
    {
        string package = SavePackage("v1");
        string weights = Path.Combine(package, ModelPackage.WeightsFileName);
        byte[] bytes = File.ReadAllBytes(weights);
        bytes[^10] ^= 0x40;
        File.WriteAllBytes(weights, bytes);

        // Nothing listens there: a refusal that came from a request would say "cannot reach".
        CliRun run = await CliRun.Of("models", "publish", package, "--api", $"http://127.0.0.1:{FreePort()}");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("weights SHA-256 is", run.Error, StringComparison.Ordinal);
    }

    private string SavePackage(string version)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = 2, InputSize = 63, Seed = 1 });
        ModelPackage package = ModelPackage.Create(new ModelManifest
        {
            Version = version,
            Classes = ["a", "b"],
            InputSize = 63,
            BaseSize = 63,
            Mean = [0f, 0f, 0f],
            WeightsSha256 = "pending",
        }, network);
        string folder = Path.Combine(root, version);
        package.SaveDirectory(folder);
        return folder;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
