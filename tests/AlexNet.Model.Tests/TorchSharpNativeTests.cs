using AlexNet.Build;

namespace AlexNet.Model.Tests;

public sealed class TorchSharpNativeTests
{
    private static string ShippedShim()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string version = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
        return Path.Combine(packages, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void PatcherMarksTheRequirementWeakOnceAndThenLeavesItAlone()
    {
        string shipped = ShippedShim();
        Assert.True(File.Exists(shipped), $"TorchSharp's shim not found at {shipped}");
        string copy = Path.Combine(Path.GetTempPath(), $"shim-{Guid.NewGuid():N}.so");
        File.Copy(shipped, copy);
        try
        {
            Assert.Equal(ElfVersionPatcher.Outcome.Patched, ElfVersionPatcher.MarkVersionWeak(copy, "GLIBCXX_3.4.32"));
            byte[] once = File.ReadAllBytes(copy);
            Assert.Equal(ElfVersionPatcher.Outcome.AlreadyWeak, ElfVersionPatcher.MarkVersionWeak(copy, "GLIBCXX_3.4.32"));
            Assert.Equal(once, File.ReadAllBytes(copy));
            Assert.Equal(ElfVersionPatcher.Outcome.NotRequired, ElfVersionPatcher.MarkVersionWeak(copy, "GLIBCXX_9.9.9"));

            // Only two bytes (the flags of one Vernaux entry) may differ from the shipped file.
            byte[] original = File.ReadAllBytes(shipped);
            Assert.Equal(original.Length, once.Length);
            Assert.InRange(original.Zip(once).Count(pair => pair.First != pair.Second), 1, 2);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void PatcherRefusesAFileThatIsNotElf()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkVersionWeak("not an elf file at all, really"u8.ToArray(), "X"));
    }

    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        using var a = TorchSharp.torch.ones(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(2f, b[0, 0].item<float>());
    }
}
