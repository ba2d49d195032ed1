// Makes TorchSharp's libLibTorchSharp.so loadable on systems whose libstdc++ predates GLIBCXX_3.4.32
// (Debian 12, Ubuntu 22.04). The library asks for that version for exactly one symbol,
// std::ios_base_library_init, which it never relocates; marking that one Elf64_Vernaux entry
// VER_FLG_WEAK (0x2) lets the dynamic loader accept a libstdc++ without it (glibc's dl-version.c
// only warns on missing weak versions).
//
// This one file is compiled twice: by MSBuild's RoslynCodeTaskFactory as the build task (see
// build/TorchSharpNative.targets) and into the library (NO_MSBUILD_TASK defined), where the runtime
// uses it to explain a load failure and the tests use it on synthetic ELF files.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace LatentDiffusion.Native
{
    /// <summary>What <see cref="GlibcxxWeakener.Inspect"/> found about one version need.</summary>
    public enum VersionNeedState
    {
        /// <summary>The file does not ask for the version at all.</summary>
        Absent,
        /// <summary>The file asks for it as a hard requirement: loading fails without it.</summary>
        Required,
        /// <summary>The file asks for it with VER_FLG_WEAK: loading succeeds without it.</summary>
        Weak,
    }

    /// <summary>Reads and patches the GNU version-needs table (SHT_GNU_verneed) of a 64-bit little-endian ELF file.</summary>
    public static class GlibcxxWeakener
    {
        public const string VersionName = "GLIBCXX_3.4.32";
        /// <summary>ELF hash of "GLIBCXX_3.4.32" (System V ABI elf_hash).</summary>
        public const uint VersionHash = 0x0297f842;
        const ushort VerFlgWeak = 0x2;
        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>The standard places a glibc loader finds libstdc++.so.6, LD_LIBRARY_PATH first.</summary>
        public static string? FindSystemLibStdCxx()
        {
            var dirs = new List<string>();
            string? ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld)) dirs.AddRange(ld.Split(':'));
            dirs.AddRange(new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            });
            foreach (string dir in dirs)
            {
                if (dir.Length == 0) continue;
                string path = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(path)) return path;
            }
            return null;
        }

        /// <summary>True when the shared library at <paramref name="libStdCxxPath"/> defines GLIBCXX_3.4.32.</summary>
        public static bool LibraryDefinesVersion(string libStdCxxPath)
        {
            byte[] bytes = File.ReadAllBytes(libStdCxxPath);
            byte[] needle = Encoding.ASCII.GetBytes(VersionName + "\0");
            return IndexOf(bytes, needle) >= 0;
        }

        /// <summary>How <paramref name="elf"/> asks for GLIBCXX_3.4.32.</summary>
        public static VersionNeedState Inspect(byte[] elf)
        {
            int offset = FindVernaux(elf);
            if (offset < 0) return VersionNeedState.Absent;
            return (ReadU16(elf, offset + 4) & VerFlgWeak) != 0 ? VersionNeedState.Weak : VersionNeedState.Required;
        }

        /// <summary>Sets VER_FLG_WEAK on the GLIBCXX_3.4.32 need; returns false when there was nothing to change.</summary>
        public static bool Weaken(byte[] elf)
        {
            int offset = FindVernaux(elf);
            if (offset < 0) return false;
            ushort flags = ReadU16(elf, offset + 4);
            if ((flags & VerFlgWeak) != 0) return false;
            WriteU16(elf, offset + 4, (ushort)(flags | VerFlgWeak));
            return true;
        }

        /// <summary>
        /// Patches <paramref name="path"/> in place when needed, writing a new file and renaming it over the old
        /// one, so a hard link into the NuGet cache is replaced rather than written through.
        /// Returns a one-line description of what was done.
        /// </summary>
        public static string PatchFile(string path)
        {
            byte[] elf = File.ReadAllBytes(path);
            if (!Weaken(elf))
                return Inspect(elf) == VersionNeedState.Weak ? "already patched" : "does not need " + VersionName;
            string tmp = path + ".tmp";
            File.WriteAllBytes(tmp, elf);
            File.Replace(tmp, path, null); // rename(2): replaces a hard link instead of writing through it
            return "marked the " + VersionName + " need weak";
        }

        /// <summary>Offset of the Elf64_Vernaux entry for GLIBCXX_3.4.32, or -1 when there is none.</summary>
        static int FindVernaux(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("not a 64-bit little-endian ELF file");
            long shoff = (long)ReadU64(elf, 0x28);
            int shentsize = ReadU16(elf, 0x3A);
            int shnum = ReadU16(elf, 0x3C);
            if (shentsize < 64 || shoff <= 0 || shoff + (long)shnum * shentsize > elf.Length)
                throw new InvalidDataException("section header table out of bounds");
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)(shoff + (long)i * shentsize));
                if (ReadU32(elf, sh + 4) != ShtGnuVerneed) continue;
                long secOff = (long)ReadU64(elf, sh + 0x18);
                long secSize = (long)ReadU64(elf, sh + 0x20);
                int link = (int)ReadU32(elf, sh + 0x28);
                if (link >= shnum || secOff + secSize > elf.Length)
                    throw new InvalidDataException("version-needs section out of bounds");
                int strSh = checked((int)(shoff + (long)link * shentsize));
                long strOff = (long)ReadU64(elf, strSh + 0x18);
                long strSize = (long)ReadU64(elf, strSh + 0x20);
                if (strOff + strSize > elf.Length)
                    throw new InvalidDataException("string table out of bounds");
                long need = secOff;
                for (int guard = 0; guard < 4096; guard++)
                {
                    if (need + 16 > secOff + secSize) throw new InvalidDataException("version-needs entry out of bounds");
                    int count = ReadU16(elf, (int)need + 2);
                    long aux = need + ReadU32(elf, (int)need + 8);
                    for (int j = 0; j < count; j++)
                    {
                        if (aux + 16 > secOff + secSize) throw new InvalidDataException("version-needs aux entry out of bounds");
                        uint hash = ReadU32(elf, (int)aux);
                        uint name = ReadU32(elf, (int)aux + 8);
                        if (hash == VersionHash && name < strSize && ReadCString(elf, (int)(strOff + name)) == VersionName)
                            return (int)aux;
                        uint nextAux = ReadU32(elf, (int)aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint next = ReadU32(elf, (int)need + 12);
                    if (next == 0) break;
                    need += next;
                }
            }
            return -1;
        }

        static string ReadCString(byte[] b, int offset)
        {
            int end = offset;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, offset, end - offset);
        }

        static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i <= haystack.Length - needle.Length; i++)
            {
                if (haystack[i] != needle[0]) continue;
                int k = 1;
                while (k < needle.Length && haystack[i + k] == needle[k]) k++;
                if (k == needle.Length) return i;
            }
            return -1;
        }

        static ushort ReadU16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
        static uint ReadU32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | (ulong)ReadU32(b, o + 4) << 32;
        static void WriteU16(byte[] b, int o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
    }

#if !NO_MSBUILD_TASK
    /// <summary>MSBuild task: weakens the GLIBCXX_3.4.32 need of each given file, only where the system libstdc++ lacks it.</summary>
    public class WeakenGlibcxxNeed : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
                return true;
            string? libstdcxx = GlibcxxWeakener.FindSystemLibStdCxx();
            if (libstdcxx == null)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "TorchSharp native: no libstdc++.so.6 found; leaving libLibTorchSharp.so as shipped.");
                return true;
            }
            if (GlibcxxWeakener.LibraryDefinesVersion(libstdcxx))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "TorchSharp native: " + libstdcxx + " has " + GlibcxxWeakener.VersionName + "; nothing to do.");
                return true;
            }
            foreach (var item in Files)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path)) continue;
                try
                {
                    string what = GlibcxxWeakener.PatchFile(path);
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "TorchSharp native: " + path + ": " + what + " (" + libstdcxx + " lacks it).");
                }
                catch (Exception e)
                {
                    Log.LogError("TorchSharp native: cannot patch " + path + ": " + e.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
