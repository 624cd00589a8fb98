using System.Runtime;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Training;

/// <summary>
/// Copying weights out (best-epoch bytes, checkpoints, packages) runs every epoch of every training run: the copies it
/// hands back are the only tensors it may leave alive. Counted with the garbage collector held off, so a handle left to
/// the finalizer shows up here instead of at random between two epochs of a training test. The count is the process's,
/// so the class runs alone (<see cref="TensorAccounting"/>).
/// </summary>
[Collection(nameof(TensorAccounting))]
public sealed class WeightCopyMemoryTests
{
    [Theory]
    [InlineData(AlexNetLayout.Grouped)]
    [InlineData(AlexNetLayout.TwoTower)]
    public void ExportingAndSerializingWeightsLeavesNoTensorAlive(AlexNetLayout layout)
    {
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = 4, InputSize = 64, Layout = layout, Seed = 3 });
        using var optimizer = new PaperSgd(network.named_parameters());
        using (torch.NewDisposeScope())
        {
            // One step so that the optimiser holds velocity to export.
            Tensor loss = network.call(torch.rand(2, 3, 64, 64)).sum();
            loss.backward();
            optimizer.Step(0.01);
        }

        CopyOut(network, optimizer);
        // Handles that earlier tests left to the finalizer go now, not while this test counts.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before;
        long after;
        Assert.True(GC.TryStartNoGCRegion(32 * 1024 * 1024), "could not hold off the garbage collector");
        try
        {
            before = Tensor.TotalCount;
            for (int i = 0; i < 3; i++)
                CopyOut(network, optimizer);
            after = Tensor.TotalCount;
        }
        finally
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                GC.EndNoGCRegion();
        }

        Assert.Equal(before, after);
    }

    private static void CopyOut(AlexNetNetwork network, PaperSgd optimizer)
    {
        foreach (Dictionary<string, Tensor> tensors in new[] { network.ExportWeights(), optimizer.ExportState() })
        {
            Assert.NotEmpty(tensors);
            Assert.NotEmpty(WeightsFormat.Serialize(tensors));
            foreach (Tensor tensor in tensors.Values)
                tensor.Dispose();
        }
    }
}
