using AlexNet.Model;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Models;

namespace AlexNet.Pipeline.Tests.Contracts;

/// <summary>Batch ids, model versions and the API's ids follow one rule, with one sentence when they do not.</summary>
public sealed class SafeIdTests
{
    [Theory]
    [InlineData("team-a_2026.12")]
    [InlineData("v1")]
    [InlineData("...")] // not a path step: only "." and ".." are
    public void LettersDigitsDashUnderscoreAndDotAreAnId(string value)
    {
        Assert.True(SafeId.IsValid(value));
        Assert.Null(SafeId.Error("batch id", value));
        LabelPaths.ValidateBatch(value);
        ModelRegistry.ValidateVersion(value);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("two words")]
    [InlineData("caf\u00e9")]
    [InlineData("a\u0000")]
    public void AnythingElseIsRefusedWithOneSentenceNamingTheId(string value)
    {
        Assert.False(SafeId.IsValid(value));
        Assert.Equal($"batch id '{value}' must be 1-128 letters, digits, '-', '_' or '.'", SafeId.Error("batch id", value));
        Assert.Equal(SafeId.Error("batch id", value) + " (Parameter 'batch')", Assert.Throws<ArgumentException>(() => LabelPaths.ValidateBatch(value)).Message);
        Assert.StartsWith($"model version '{value}'", Assert.Throws<ArgumentException>(() => ModelRegistry.ValidateVersion(value)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EachIdKeepsItsLengthLimit()
    {
        Assert.True(SafeId.IsValid(new string('a', 128)));
        Assert.False(SafeId.IsValid(new string('a', 129)));
        ModelRegistry.ValidateVersion(new string('v', 64));
        Assert.Throws<ArgumentException>(() => ModelRegistry.ValidateVersion(new string('v', 65)));
        Assert.Equal("the dataset is empty", SafeId.Error("dataset", ""));
    }
}
