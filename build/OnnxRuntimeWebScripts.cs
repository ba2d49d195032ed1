// Turns the npm package onnxruntime-web (a .tgz that `npm pack` fetched) into the scripts the browser page
// (docs/play) loads. A page opened from disk (file://) may not fetch() and may not import a module from a file, but
// it may run classic <script> files; so the runtime's UMD bundle is copied as it is, and the WebAssembly binary and
// its module glue (ort-wasm-simd-threaded.wasm and .mjs) are written base64-encoded into one classic script, which
// the page hands to ONNX Runtime as env.wasm.wasmBinary and as a data: URL (env.wasm.wasmPaths.mjs).
//
// Compiled by MSBuild's RoslynCodeTaskFactory (build/OnnxRuntimeWeb.targets). The package is checked against the
// SHA-512 integrity the registry published for it before anything is read from it.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LatentDiffusion.Build
{
    public sealed class OnnxRuntimeWebScripts : Task
    {
        /// <summary>onnxruntime-web-VERSION.tgz as the registry serves it.</summary>
        [Required] public string Tarball { get; set; } = "";

        /// <summary>The registry's dist.integrity of that version: "sha512-" and the base64 digest.</summary>
        [Required] public string Integrity { get; set; } = "";

        [Required] public string Version { get; set; } = "";

        /// <summary>Where the scripts go (docs/play/ort/).</summary>
        [Required] public string OutputDirectory { get; set; } = "";

        const string Bundle = "package/dist/ort.wasm.min.js", Glue = "package/dist/ort-wasm-simd-threaded.mjs",
            Binary = "package/dist/ort-wasm-simd-threaded.wasm";

        public override bool Execute()
        {
            byte[] tgz = File.ReadAllBytes(Tarball);
            string actual;
            using (SHA512 sha = SHA512.Create()) actual = "sha512-" + Convert.ToBase64String(sha.ComputeHash(tgz));
            if (actual != Integrity)
            {
                Log.LogError($"{Tarball}: integrity {actual}, expected {Integrity} (onnxruntime-web {Version}); delete the file to fetch it again");
                return false;
            }
            Dictionary<string, byte[]> files = ReadTar(new GZipStream(new MemoryStream(tgz), CompressionMode.Decompress), new[] { Bundle, Glue, Binary });
            foreach (string name in new[] { Bundle, Glue, Binary })
                if (!files.ContainsKey(name))
                {
                    Log.LogError($"{Tarball}: has no {name}; this build expects onnxruntime-web {Version}'s layout");
                    return false;
                }
            Directory.CreateDirectory(OutputDirectory);
            Write("ort.wasm.min.js", files[Bundle]);
            var script = new StringBuilder();
            script.Append("// onnxruntime-web ").Append(Version).Append(": ort-wasm-simd-threaded.mjs and .wasm, base64, for a page opened from disk.\n");
            script.Append("// Written by the build (build/OnnxRuntimeWeb.targets) from the npm package. ONNX Runtime Web: Copyright (c) Microsoft Corporation, MIT License.\n");
            script.Append("self.ldmOrtWasm = {\n  version: \"").Append(Version).Append("\",\n  glue: \"")
                .Append(Convert.ToBase64String(files[Glue])).Append("\",\n  binary: \"")
                .Append(Convert.ToBase64String(files[Binary])).Append("\",\n};\n");
            Write("ort-wasm.js", Encoding.UTF8.GetBytes(script.ToString()));
            Log.LogMessage(MessageImportance.High, $"onnxruntime-web {Version} → {OutputDirectory}");
            return true;
        }

        /// <summary>Written under a temporary name and renamed, so an interrupted build leaves no half script.</summary>
        void Write(string name, byte[] bytes)
        {
            string path = Path.Combine(OutputDirectory, name), staging = path + ".tmp";
            File.WriteAllBytes(staging, bytes);
            if (File.Exists(path)) File.Replace(staging, path, null);
            else File.Move(staging, path);
        }

        /// <summary>
        /// The wanted regular files of a ustar archive: 512-byte headers (name at 0, size in octal at 124, type at 156,
        /// prefix at 345), each file's data padded to 512 bytes, two zero blocks at the end.
        /// </summary>
        static Dictionary<string, byte[]> ReadTar(Stream tar, ICollection<string> wanted)
        {
            var found = new Dictionary<string, byte[]>();
            var header = new byte[512];
            while (ReadFully(tar, header) && header[0] != 0)
            {
                string name = Field(header, 0, 100), prefix = Field(header, 345, 155);
                if (prefix.Length > 0) name = prefix + "/" + name;
                long size = Convert.ToInt64(Field(header, 124, 12).Trim(' ', '\0').PadLeft(1, '0'), 8);
                var data = new byte[size];
                if (!ReadFully(tar, data)) throw new InvalidDataException($"tar entry {name} is cut short");
                int padding = (int)((512 - size % 512) % 512);
                if (padding > 0 && !ReadFully(tar, new byte[padding])) break;
                char type = (char)header[156];
                if ((type == '0' || type == '\0') && wanted.Contains(name)) found[name] = data;
            }
            return found;
        }

        static string Field(byte[] header, int offset, int length)
        {
            int end = Array.IndexOf(header, (byte)0, offset, length);
            return Encoding.ASCII.GetString(header, offset, (end < 0 ? offset + length : end) - offset);
        }

        static bool ReadFully(Stream stream, byte[] buffer)
        {
            int read = 0;
            while (read < buffer.Length)
            {
                int n = stream.Read(buffer, read, buffer.Length - read);
                if (n == 0) return false;
                read += n;
            }
            return true;
        }
    }
}
