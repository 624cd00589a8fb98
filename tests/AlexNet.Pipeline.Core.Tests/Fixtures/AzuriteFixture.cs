using AlexNet.Testing;

namespace AlexNet.Pipeline.Tests.Fixtures;

/// <summary>
/// Azurite on its default ports, which <c>scripts/azurite.sh start</c> (and CI) starts. A missing Azurite is a
/// failure with a way out, never a silent skip: the tests that need it are the ones that prove the Azure adapters.
/// </summary>
public sealed class AzuriteFixture
{
    public const string ConnectionString = Azurite.ConnectionString;

    public AzuriteFixture() => Azurite.Require();
}
