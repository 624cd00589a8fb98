using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Tests.Labeling;

public sealed class LabelPathsTests
{
    [Fact]
    public void DifferentImagePathsNeverShareARecordName()
    {
        string[] paths =
        [
            "summary", "summary.image", "summary.image.image", "summary.json", "labels", "review", "x.jpg", "x.jpg.json",
            "a/summary", "a/summary.image", "/lead.png", "_/lead.png", "hn//double-slash.png", "hn/_/double-slash.png",
            "a/./b.png", "a/../b.png", "trailing/", new string('x', 1010), new string('x', 1011), new string('y', 2000),
            string.Concat(Enumerable.Repeat("d/", 260)) + "deep.png", "back\\slash.png",
        ];

        string[] names = paths.Select(p => LabelPaths.Record("batch", p)).ToArray();

        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, name =>
        {
            Assert.InRange(name.Length, 1, 1024);
            Assert.StartsWith("batch/", name, StringComparison.Ordinal);
            Assert.EndsWith(".json", name, StringComparison.Ordinal);
            Assert.DoesNotContain(name.Split('/'), segment => segment is "" or "." or "..");
            Assert.DoesNotContain('\\', name);
            Assert.False(LabelPaths.IsBatchFile("batch", name), name);
        });
    }

    [Fact]
    public void OrdinaryImagePathsKeepTheirRecordNames()
    {
        Assert.Equal("b/x.jpg.json", LabelPaths.Record("b", "x.jpg"));
        Assert.Equal("b/shop/shirt.jpg.json", LabelPaths.Record("b", "shop/shirt.jpg"));
        Assert.Equal("b/summary.image.json", LabelPaths.Record("b", "summary"));
        Assert.Equal("b/a/summary.json", LabelPaths.Record("b", "a/summary"));
    }

    [Fact]
    public void ReviewDecisionsHaveAFolderNoImageRecordLiesIn()
    {
        string[] paths = ["x.png", "reviews/x.png", "reviews.image/x.png", "reviews.image.image/x.png", "reviews", "a/reviews/x.png"];

        string[] records = paths.Select(p => LabelPaths.Record("b", p)).ToArray();
        string[] reviews = paths.Select(p => LabelPaths.ReviewRecord("b", p)).ToArray();

        Assert.Equal("b/reviews.image/x.png.json", LabelPaths.Record("b", "reviews/x.png"));
        Assert.Equal("b/reviews/x.png.json", LabelPaths.ReviewRecord("b", "x.png"));
        Assert.Equal(records.Length + reviews.Length, records.Concat(reviews).Distinct(StringComparer.Ordinal).Count());
        Assert.All(records, name => Assert.False(LabelPaths.IsReviewRecord("b", name), name));
        Assert.All(reviews, name => Assert.True(LabelPaths.IsReviewRecord("b", name), name));
        Assert.StartsWith("b/reviews/", LabelPaths.ReviewRecord("b", new string('y', 2000)), StringComparison.Ordinal);
        Assert.InRange(LabelPaths.ReviewRecord("b", new string('y', 2000)).Length, 1, 1024);
    }
}
