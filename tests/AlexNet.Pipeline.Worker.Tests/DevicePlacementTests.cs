using AlexNet.Model.Network;

namespace AlexNet.Pipeline.Worker.Tests;

public sealed class DevicePlacementTests
{
    [Theory]
    [InlineData(0, "auto", "auto", AlexNetLayout.Grouped, "cpu")]
    [InlineData(1, "auto", "auto", AlexNetLayout.Grouped, "cuda:0")]
    [InlineData(2, "auto", "auto", AlexNetLayout.TwoTower, "cuda:0,cuda:1")]
    [InlineData(8, "auto", "auto", AlexNetLayout.TwoTower, "cuda:0,cuda:1")]
    [InlineData(2, "auto", "Grouped", AlexNetLayout.Grouped, "cuda:0")]
    [InlineData(1, "auto", "twotower", AlexNetLayout.TwoTower, "cuda:0")]
    [InlineData(0, "auto", "TwoTower", AlexNetLayout.TwoTower, "cpu")]
    [InlineData(2, "cpu", "auto", AlexNetLayout.Grouped, "cpu")]
    [InlineData(2, "cuda", "auto", AlexNetLayout.Grouped, "cuda:0")]
    [InlineData(2, "cuda:1", "auto", AlexNetLayout.Grouped, "cuda:1")]
    [InlineData(2, " cuda:1 , CUDA:0 ", "auto", AlexNetLayout.TwoTower, "cuda:1,cuda:0")]
    [InlineData(2, "cuda:0,cuda:1", "Grouped", AlexNetLayout.Grouped, "cuda:0")]
    [InlineData(0, "cpu,cpu", "auto", AlexNetLayout.TwoTower, "cpu,cpu")]
    public void PlacementFollowsDeviceCountAndSettings(int cudaDevices, string device, string layout, AlexNetLayout expectedLayout, string expectedDevices)
    {
        DevicePlacement placement = DevicePlacement.Decide(cudaDevices, device, layout);

        Assert.Equal(expectedLayout, placement.Layout);
        Assert.Equal(expectedDevices.Split(','), placement.Devices);
    }

    [Theory]
    [InlineData(0, "cuda", "auto", "Worker:Device asks for cuda:0, but torch sees 0 CUDA device(s)")]
    [InlineData(1, "cuda:0,cuda:1", "auto", "Worker:Device asks for cuda:1, but torch sees 1 CUDA device(s)")]
    [InlineData(2, "gpu", "auto", "Worker:Device 'gpu' is not understood")]
    [InlineData(2, "cuda:x", "auto", "Worker:Device 'cuda:x' is not understood")]
    [InlineData(4, "cuda:0,cuda:1,cuda:2", "auto", "names 3 devices; the network splits over at most 2")]
    [InlineData(2, "auto", "Sideways", "Worker:Layout 'Sideways' is not understood")]
    [InlineData(2, "auto", "1", "Worker:Layout '1' is not understood")]
    public void ImpossiblePlacementIsRefusedNamingTheSetting(int cudaDevices, string device, string layout, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => DevicePlacement.Decide(cudaDevices, device, layout));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThisMachineWithoutCudaRunsGroupedOnTheCpu()
    {
        // The CPU build of libtorch (the one these tests use) sees no CUDA device, whatever the machine has.
        DevicePlacement placement = DevicePlacement.ForThisMachine(new WorkerOptions());

        Assert.Equal(new DevicePlacement(AlexNetLayout.Grouped, ["cpu"]).ToString(), placement.ToString());
    }
}
