using System.Reflection;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>Where the repository and the worker's build output are, seen from the test assembly.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The worker host's build output (<c>ALEXNET_WORKER_DLL</c> overrides it, e.g. for a published worker).</summary>
    public static string WorkerAssembly =>
        Environment.GetEnvironmentVariable("ALEXNET_WORKER_DLL") is { Length: > 0 } path
            ? path
            : typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "WorkerAssemblyPath").Value!;

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
