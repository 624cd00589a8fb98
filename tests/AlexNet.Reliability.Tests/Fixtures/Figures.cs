using System.Globalization;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>
/// The result line of one reliability run, as docs/reliability.md tabulates it. Written to the test output and, when
/// <c>ALEXNET_RELIABILITY_REPORT</c> names a file, appended to it as a tab-separated line (scripts/soak.sh prints those).
/// </summary>
internal sealed record Figures(
    string Test, string Size, int Runs, long FaultsInjected, int ImagesIn, int Labeled, int Rejected, int Lost, int Duplicates, double Seconds, string Note = "")
{
    public const string ReportVariable = "ALEXNET_RELIABILITY_REPORT";

    public static Figures From(string test, int runs, long faults, AuditResult audit, double seconds, string note = "") =>
        new(test, Soak.Size, runs, faults, audit.Images, audit.Labeled, audit.Rejected, audit.Lost, audit.Duplicates, seconds, note);

    public void Report(ITestOutputHelper output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {Test} [{Size}]: runs {Runs}, faults injected {FaultsInjected}, images in {ImagesIn}, labeled {Labeled}, rejected {Rejected}, lost {Lost}, duplicates {Duplicates}, {Seconds:F1} s{(Note.Length > 0 ? "; " + Note : "")}"));
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } file)
        {
            File.AppendAllText(file, string.Create(CultureInfo.InvariantCulture,
                $"{Test}\t{Size}\t{Runs}\t{FaultsInjected}\t{ImagesIn}\t{Labeled}\t{Rejected}\t{Lost}\t{Duplicates}\t{Seconds:F1}\t{Note}\n"));
        }
    }
}

/// <summary>
/// Sizes of the runs: CI-sized by default; scripts/soak.sh sets <c>ALEXNET_SOAK=1</c> and the <c>ALEXNET_SOAK_*</c>
/// variables for the long versions.
/// </summary>
internal static class Soak
{
    public static bool IsOn => Environment.GetEnvironmentVariable("ALEXNET_SOAK") == "1";

    public static string Size => IsOn ? "soak" : "ci";

    /// <summary><c>ALEXNET_SOAK_&lt;name&gt;</c> when soaking and set, else the CI size.</summary>
    public static int Int(string name, int ci, int soak) =>
        !IsOn ? ci
        : Environment.GetEnvironmentVariable("ALEXNET_SOAK_" + name) is { Length: > 0 } value ? int.Parse(value, CultureInfo.InvariantCulture)
        : soak;

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> and <paramref name="state"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<Task<string>>? state = null, TimeSpan? poll = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}{(state is null ? "" : ": " + await state())}");
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(200));
        }
    }
}
