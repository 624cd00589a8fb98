using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlexNet.Model.Training;

/// <summary>
/// Stochastic gradient descent with momentum and weight decay in the paper's form (section 5):
/// v := m * v - d * lr * w - lr * g;  w := w + v.
/// </summary>
/// <remarks>
/// PyTorch's SGD (and TorchSharp's) keeps b := m * b + g + d * w and steps w := w - lr * b: the learning rate
/// sits outside the buffer. At a fixed rate the two are the same trajectory (v = -lr * b); after a rate drop the
/// paper's velocity still carries the old rate's steps for a few iterations while PyTorch's shrinks at once
/// (PAPER.md trap 5). This class is the paper's.
/// </remarks>
public sealed class PaperSgd : IDisposable
{
    private readonly (string Name, Parameter Parameter)[] parameters;
    private readonly Dictionary<string, Tensor> velocity = new(StringComparer.Ordinal);

    public PaperSgd(IEnumerable<(string Name, Parameter Parameter)> parameters, double momentum = 0.9, double weightDecay = 5e-4)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        this.parameters = parameters.ToArray();
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    public double Momentum { get; }

    public double WeightDecay { get; }

    /// <summary>Applies one update from the parameters' current gradients at learning rate <paramref name="lr"/>.</summary>
    public void Step(double lr)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in parameters)
        {
            // Each read of .grad is a new handle that pins the gradient's storage until disposed.
            using Tensor? gradient = parameter.grad;
            if (gradient is null)
                continue;
            if (!velocity.TryGetValue(name, out Tensor? v))
            {
                // The optimiser owns its velocity: a dispose scope around the step must not take it.
                v = torch.zeros_like(parameter).DetachFromDisposeScope();
                velocity[name] = v;
            }
            v.mul_(Momentum).add_(parameter, alpha: -WeightDecay * lr).add_(gradient, alpha: -lr);
            parameter.add_(v);
        }
    }

    /// <summary>Copies of the velocity buffers (CPU), by parameter name; the caller disposes them.</summary>
    public Dictionary<string, Tensor> ExportState()
    {
        using var scope = torch.NewDisposeScope();
        return velocity.ToDictionary(pair => pair.Key, pair => pair.Value.detach().cpu().clone().MoveToOuterDisposeScope(), StringComparer.Ordinal);
    }

    /// <summary>Restores velocity buffers saved by <see cref="ExportState"/> from the same network layout.</summary>
    public void ImportState(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var byName = parameters.ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        foreach (var (name, saved) in state)
        {
            if (!byName.TryGetValue(name, out Parameter? parameter) || !saved.shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"optimiser state '{name}' does not fit this network (different layout or size?)");
            if (velocity.Remove(name, out Tensor? old))
                old.Dispose();
            using (torch.NewDisposeScope())
                velocity[name] = saved.to(parameter.device).clone().DetachFromDisposeScope();
        }
    }

    public void Dispose()
    {
        foreach (Tensor v in velocity.Values)
            v.Dispose();
        velocity.Clear();
    }
}
