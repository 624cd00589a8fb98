namespace AlexNet.Pipeline.Tests.Fixtures;

/// <summary>
/// Container and queue names no other test (or earlier run against the same Azurite) uses: valid for Azure
/// (lowercase letters, digits, single hyphens) and short enough to leave room for a "-poison" suffix.
/// </summary>
public static class UniqueNames
{
    public static string For(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 1 + 24, 56)];
}
