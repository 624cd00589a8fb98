using System.Reflection;
using System.Text.Json;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// The Functions app ships without libtorch, so nothing it loads may need TorchSharp: its dependency manifest names no
/// torch package, and no assembly it references (followed through every AlexNet assembly) references TorchSharp.
/// </summary>
public sealed class TorchFreeBoundaryTests
{
    [Fact]
    public void TheFunctionsAppsDependencyManifestNamesNoTorchPackage()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "AlexNet.Pipeline.Functions.deps.json");
        Assert.True(File.Exists(path), $"{path} is missing: it is copied here when the Functions project builds");
        using JsonDocument deps = JsonDocument.Parse(File.ReadAllBytes(path));
        string[] libraries = [.. deps.RootElement.GetProperty("libraries").EnumerateObject().Select(library => library.Name)];

        Assert.Contains(libraries, name => name.StartsWith("AlexNet.Pipeline.ControlPlane/", StringComparison.Ordinal));
        Assert.DoesNotContain(libraries, name => name.Contains("torch", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(libraries, name => name.StartsWith("AlexNet.Model/", StringComparison.Ordinal));
    }

    [Fact]
    public void NoAssemblyTheFunctionsAppReferencesNeedsTorchSharp()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<Assembly>([typeof(FunctionsHostingExtensions).Assembly]);
        while (pending.Count > 0)
        {
            Assembly assembly = pending.Dequeue();
            foreach (AssemblyName reference in assembly.GetReferencedAssemblies())
            {
                Assert.False(reference.Name!.StartsWith("TorchSharp", StringComparison.Ordinal),
                    $"{assembly.GetName().Name} references {reference.Name}: the Functions app has no libtorch");
                Assert.NotEqual("AlexNet.Model", reference.Name);
                if (reference.Name.StartsWith("AlexNet.", StringComparison.Ordinal) && seen.Add(reference.Name))
                    pending.Enqueue(Assembly.Load(reference));
            }
        }

        Assert.Contains("AlexNet.Pipeline.ControlPlane", seen);
        Assert.Contains("AlexNet.Model.Contracts", seen);
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "TorchSharp.dll")), "TorchSharp.dll is in the Functions app's output");
    }
}
