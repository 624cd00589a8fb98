using System.Text.Json;

namespace AlexNet.Cli.Tests;

public sealed class InfoCommandTests
{
    [Fact]
    public async Task InfoPrintsThePapersParameterCountInTheTable()
    {
        var run = await CliRun.Of("info");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("60,965,224", run.Output, StringComparison.Ordinal);
        Assert.Contains("conv3", run.Output, StringComparison.Ordinal);
        Assert.Contains("both towers", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InfoJsonDescribesTheSmallInputNetwork()
    {
        var run = await CliRun.Of("info", "--classes", "10", "--input-size", "64", "--layout", "TwoTower", "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;
        Assert.Equal("TwoTower", root.GetProperty("layout").GetString());
        var fc6 = root.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "fc6");
        Assert.Equal(256L * 4096 + 4096, fc6.GetProperty("parameters").GetInt64());
        Assert.Equal("2 x 2048", fc6.GetProperty("placement").GetString());
        Assert.Equal(root.GetProperty("parameters").GetInt64() * 4, root.GetProperty("weightBytes").GetInt64());
    }

    [Theory]
    [InlineData("info", "--input-size", "32")]
    [InlineData("info", "--bogus")]
    [InlineData("info", "--classes", "ten")]
    [InlineData("no-such-verb")]
    public async Task BadArgumentsGiveOneLineOnStandardErrorAndExitCode2(params string[] args)
    {
        var run = await CliRun.Of(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.StartsWith("alexnet: ", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Output);
    }
}
