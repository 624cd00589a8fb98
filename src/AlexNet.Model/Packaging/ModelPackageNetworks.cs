using AlexNet.Model.Network;
using static TorchSharp.torch;

namespace AlexNet.Model.Packaging;

/// <summary>
/// The torch side of <see cref="ModelPackage"/>: packaging a live network and building one from a package. The
/// package itself (manifest, bytes, SHA-256) lives in AlexNet.Model.Contracts, which the control plane uses
/// without loading libtorch.
/// </summary>
public static class ModelPackageNetworks
{
    extension(ModelPackage)
    {
        /// <summary>
        /// Packages a network's current weights as <c>weights.safetensors</c>; the manifest's weights file, hash, size,
        /// layout, input size and computing settings (conv1 padding, pooling, LRN, channel order) are filled in here from
        /// the network (a manifest copied from an earlier package may name <c>weights.bin</c>).
        /// </summary>
        public static ModelPackage Create(ModelManifest manifest, AlexNetNetwork network)
        {
            ArgumentNullException.ThrowIfNull(manifest);
            ArgumentNullException.ThrowIfNull(network);
            var tensors = network.ExportWeights();
            try
            {
                byte[] bytes = WeightsFormat.Serialize(tensors);
                return ModelPackage.FromWeights(manifest.WithSemanticsOf(network.Options) with { WeightsFile = ModelPackage.WeightsFileName, Layout = network.Options.Layout, InputSize = network.Options.InputSize }, bytes);
            }
            finally
            {
                foreach (Tensor tensor in tensors.Values)
                    tensor.Dispose();
            }
        }
    }

    extension(ModelPackage package)
    {
        /// <summary>Builds the network in the layout and on the devices asked for, with this package's weights.</summary>
        public AlexNetNetwork CreateNetwork(AlexNetLayout? layout = null, IReadOnlyList<Device>? devices = null)
        {
            AlexNetNetwork network = AlexNetFactory.Create(package.Manifest.NetworkOptions(layout), devices);
            var tensors = WeightsFormat.Deserialize(package.WeightsBytes.Span);
            try
            {
                network.ImportWeights(tensors);
            }
            catch
            {
                network.Dispose();
                throw;
            }
            finally
            {
                foreach (Tensor tensor in tensors.Values)
                    tensor.Dispose();
            }
            return network;
        }
    }
}
