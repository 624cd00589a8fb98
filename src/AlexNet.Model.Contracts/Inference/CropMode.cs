namespace AlexNet.Model.Inference;

/// <summary>Which crops of the base image the network sees at test time.</summary>
public enum CropMode
{
    /// <summary>One centre crop.</summary>
    Center,

    /// <summary>The paper's ten: four corners and the centre, and their horizontal reflections; softmax averaged.</summary>
    TenCrop,
}
