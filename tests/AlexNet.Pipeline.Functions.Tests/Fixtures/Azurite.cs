using AlexNet.Testing;

namespace AlexNet.Pipeline.Functions.Tests.Fixtures;

/// <summary>
/// Azurite on its default ports (<c>scripts/azurite.sh start</c>, and CI). Missing, it fails the tests that need it
/// with the way out, never skips them: they are what proves the storage paths.
/// </summary>
public static class Azurite
{
    public const string ConnectionString = "UseDevelopmentStorage=true";

    /// <summary>Azurite's well-known development account, for clients built from a URL.</summary>
    public const string AccountName = "devstoreaccount1";

    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static void EnsureRunning() => LocalPorts.RequireAzurite(("Blob", 10000), ("Queue", 10001));

    /// <summary>A container or batch name no other test or earlier run uses.</summary>
    public static string Unique(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 1 + 20, 60)];
}
