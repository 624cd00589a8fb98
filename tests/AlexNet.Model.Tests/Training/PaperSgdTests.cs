using AlexNet.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlexNet.Model.Tests.Training;

public sealed class PaperSgdTests
{
    private static (Parameter Paper, Parameter Torch) TwinParameters()
    {
        using var start = torch.tensor(new[] { 1.0f, -2.0f, 0.5f, 3.0f });
        return (new Parameter(start.clone()), new Parameter(start.clone()));
    }

    private static void SetGradient(Parameter parameter, int step)
    {
        // A fixed gradient sequence: g = w * (step + 1) / 10 + 0.3.
        using var noGrad = torch.no_grad();
        parameter.grad = parameter.detach() * ((step + 1) / 10.0) + 0.3;
    }

    [Fact]
    public void AtAFixedRateThePapersUpdateFollowsTorchSgd()
    {
        var (paper, reference) = TwinParameters();
        using var ours = new PaperSgd([("w", paper)], momentum: 0.9, weightDecay: 5e-4);
        using var sgd = torch.optim.SGD([reference], 0.01, momentum: 0.9, weight_decay: 5e-4);

        for (int step = 0; step < 20; step++)
        {
            SetGradient(paper, step);
            SetGradient(reference, step);
            ours.Step(0.01);
            sgd.step();
        }

        Assert.True((paper - reference).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void AfterARateDropThePapersVelocityStillCarriesTheOldRate()
    {
        var (paper, reference) = TwinParameters();
        using var ours = new PaperSgd([("w", paper)], momentum: 0.9, weightDecay: 0);
        using var sgd = torch.optim.SGD([reference], 0.1, momentum: 0.9);
        for (int step = 0; step < 5; step++)
        {
            SetGradient(paper, step);
            SetGradient(reference, step);
            ours.Step(0.1);
            sgd.step();
        }
        using Tensor before = paper.detach().clone();
        using Tensor referenceBefore = reference.detach().clone();
        Assert.True((before - referenceBefore).abs().max().item<float>() < 1e-5);

        // Drop the rate by 10 and take one step with a zero gradient: only momentum moves the weights.
        using (torch.no_grad())
        {
            paper.grad = torch.zeros_like(paper);
            reference.grad = torch.zeros_like(reference);
        }
        ours.Step(0.01);
        foreach (var group in sgd.ParamGroups)
            group.LearningRate = 0.01;
        sgd.step();

        using Tensor paperMove = paper.detach() - before;
        using Tensor torchMove = reference.detach() - referenceBefore;
        // Paper: w += 0.9 v (v carries lr 0.1); PyTorch: w -= 0.01 * 0.9 b, ten times smaller.
        Assert.True((paperMove - torchMove * 10).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void ExportedStateRestoresTheSameTrajectory()
    {
        var (a, b) = TwinParameters();
        using var first = new PaperSgd([("w", a)]);
        for (int step = 0; step < 3; step++)
        {
            SetGradient(a, step);
            first.Step(0.05);
        }
        using (torch.no_grad())
            b.copy_(a);
        using var second = new PaperSgd([("w", b)]);
        var state = first.ExportState();
        second.ImportState(state);
        foreach (Tensor t in state.Values)
            t.Dispose();

        SetGradient(a, 3);
        SetGradient(b, 3);
        first.Step(0.05);
        second.Step(0.05);

        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
    }
}
