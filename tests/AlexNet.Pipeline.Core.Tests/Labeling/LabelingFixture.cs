using AlexNet.Imaging;
using AlexNet.Model.Inference;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using AlexNet.Testing.Encoders;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Tests.Labeling;

/// <summary>Small random-weight model packages, image folders with good and bad files, and engines over them.</summary>
internal static class LabelingFixture
{
    public static readonly string[] BadFiles = ["empty.jpg", "notes.jpg", "half.jpg", "bomb.png"];

    public static ModelPackage Package(string version = "v1", int seed = 3) => TestModels.Build(version, seed);

    /// <summary>A folder with <paramref name="good"/> photo-like JPEGs in two subfolders, and optionally four bad files.</summary>
    public static string ImageFolder(int good, bool withBadFiles)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"alexnet-images-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(folder, "a"));
        Directory.CreateDirectory(Path.Combine(folder, "b"));
        for (int i = 0; i < good; i++)
            File.WriteAllBytes(Path.Combine(folder, i % 2 == 0 ? "a" : "b", $"photo-{i:D3}.jpg"), SampleImages.PhotoJpeg(120, 90, seed: i));
        if (withBadFiles)
        {
            File.WriteAllBytes(Path.Combine(folder, "empty.jpg"), []);
            File.WriteAllText(Path.Combine(folder, "notes.jpg"), "this is a text file with a .jpg name");
            byte[] photo = SampleImages.PhotoJpeg(120, 90, seed: 999);
            File.WriteAllBytes(Path.Combine(folder, "half.jpg"), photo[..(photo.Length / 2)]);
            File.WriteAllBytes(Path.Combine(folder, "bomb.png"), PngWriter.WithDeclaredSize(20000, 20000));
        }
        return folder;
    }

    public static LabelingEngine Engine(Classifier classifier, IBlobStore output, LabelingOptions? options = null) =>
        new(classifier, output, new ImageDecoder(ImageLimits.Default), options ?? new LabelingOptions { BatchSize = 8 },
            TimeProvider.System, NullLogger<LabelingEngine>.Instance);

    public static async Task<List<string>> ListAsync(IBlobStore store, string container, string prefix)
    {
        var names = new List<string>();
        await foreach (var entry in store.ListAsync(container, prefix))
            names.Add(entry.Name);
        return names;
    }
}
