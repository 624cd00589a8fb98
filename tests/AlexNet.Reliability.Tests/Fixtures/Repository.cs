using System.Reflection;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>Where the repository and the build outputs of the worker and the CLI are, seen from the test assembly.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The worker host's build output (<c>ALEXNET_WORKER_DLL</c> overrides it, e.g. for a published worker).</summary>
    public static string WorkerAssembly =>
        Environment.GetEnvironmentVariable("ALEXNET_WORKER_DLL") is { Length: > 0 } path
            ? path
            : Metadata("WorkerAssemblyPath");

    /// <summary>The <c>alexnet</c> command's build output.</summary>
    public static string CliAssembly => Metadata("CliAssemblyPath");

    private static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "AlexNet.Pipeline.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"no AlexNet.Pipeline.sln above {AppContext.BaseDirectory}");
    }
}
