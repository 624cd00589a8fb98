using System;
using System.Linq;
using System.IO;
using System.Text;

namespace AlexNet.Build
{
    /// <summary>
    /// Marks one symbol-version requirement of an ELF shared object as weak (VER_FLG_WEAK in its Vernaux
    /// entry), so the dynamic loader accepts a libstdc++ that lacks that version as long as nothing resolves
    /// a symbol bound to it. libLibTorchSharp.so asks for GLIBCXX_3.4.32 only for
    /// std::ios_base_library_init, which nothing calls; Debian 12's libstdc++ stops at 3.4.30.
    /// </summary>
    public static class ElfVersionPatcher
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        public enum Outcome { Patched, AlreadyWeak, NotRequired }

        public static Outcome MarkVersionWeak(string path, string versionName)
        {
            byte[] elf = File.ReadAllBytes(path);
            Outcome outcome = MarkVersionWeak(elf, versionName);
            if (outcome == Outcome.Patched)
            {
                string temporary = path + ".weak-tmp";
                File.WriteAllBytes(temporary, elf);
                File.Replace(temporary, path, null);
            }
            return outcome;
        }

        public static Outcome MarkVersionWeak(byte[] elf, string versionName)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

            ulong sectionTable = BitConverter.ToUInt64(elf, 0x28);
            int entrySize = BitConverter.ToUInt16(elf, 0x3A);
            int sectionCount = BitConverter.ToUInt16(elf, 0x3C);

            for (int i = 0; i < sectionCount; i++)
            {
                int header = checked((int)sectionTable + i * entrySize);
                if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed)
                    continue;

                int verneed = checked((int)BitConverter.ToUInt64(elf, header + 24));
                int stringSection = (int)BitConverter.ToUInt32(elf, header + 40);
                int needCount = (int)BitConverter.ToUInt32(elf, header + 44);
                int stringHeader = checked((int)sectionTable + stringSection * entrySize);
                int strings = checked((int)BitConverter.ToUInt64(elf, stringHeader + 24));

                int need = verneed;
                for (int n = 0; n < needCount; n++)
                {
                    int auxCount = BitConverter.ToUInt16(elf, need + 2);
                    int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        string name = ReadString(elf, strings + (int)BitConverter.ToUInt32(elf, aux + 8));
                        if (name == versionName)
                        {
                            ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                            if ((flags & VerFlagWeak) != 0)
                                return Outcome.AlreadyWeak;
                            BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, aux + 4);
                            return Outcome.Patched;
                        }
                        aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                    }
                    need += (int)BitConverter.ToUInt32(elf, need + 12);
                }
            }
            return Outcome.NotRequired;
        }

        /// <summary>True when a shared library (libstdc++) defines the version, so no patch is needed.</summary>
        public static bool LibraryDefinesVersion(string libraryPath, string versionName)
        {
            if (!File.Exists(libraryPath))
                return false;
            byte[] needle = Encoding.ASCII.GetBytes(versionName + "\0");
            byte[] haystack = File.ReadAllBytes(libraryPath);
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                    j++;
                if (j == needle.Length)
                    return true;
            }
            return false;
        }

        private static string ReadString(byte[] elf, int offset)
        {
            int end = Array.IndexOf(elf, (byte)0, offset);
            return Encoding.ASCII.GetString(elf, offset, end - offset);
        }
    }
}

#if !ELF_PATCHER_WITHOUT_TASK

public class MarkElfVersionWeak : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = new Microsoft.Build.Framework.ITaskItem[0];
    [Microsoft.Build.Framework.Required] public string VersionName { get; set; } = "";
    [Microsoft.Build.Framework.Required] public string SystemLibraries { get; set; } = "";

    public override bool Execute()
    {
        string[] libraries = SystemLibraries.Split(';').Where(File.Exists).ToArray();
        if (libraries.Any(library => AlexNet.Build.ElfVersionPatcher.LibraryDefinesVersion(library, VersionName)))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "libstdc++ defines {0}; TorchSharp shim left as shipped", VersionName);
            return true;
        }

        foreach (Microsoft.Build.Framework.ITaskItem file in Files)
        {
            AlexNet.Build.ElfVersionPatcher.Outcome outcome = AlexNet.Build.ElfVersionPatcher.MarkVersionWeak(file.ItemSpec, VersionName);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "{0}: {1} {2}", file.ItemSpec, VersionName, outcome);
        }
        return true;
    }
}
#endif
