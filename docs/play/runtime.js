// Loading: ONNX Runtime Web and the three networks, all from classic <script> files beside the page, so the page works
// opened from disk (file://, where fetch() and module imports of files are refused) as well as served (ldm serve /play).
//   ort/ort.wasm.min.js   onnxruntime-web's UMD bundle (WASM backend only)       written by the build from npm
//   ort/ort-wasm.js       its WebAssembly binary and module glue, base64          (build/OnnxRuntimeWeb.targets)
//   models/index.js       which files are the UNet, the VAE decoder, the classifier    written by `ldm-lite play`
//   models/NAME.onnx.js   each ONNX file, base64, with its ldm.model metadata          (LatentDiffusion.Onnx/BrowserModels.cs)
// Any file that is missing or of the wrong kind rejects with an Error naming it; the page shows that message.
"use strict";

const LdmRuntime = (() => {
  /** Runs the classic script `src`; rejects naming it when it cannot be loaded (a missing file, on disk or served). */
  function loadScript(src, hint) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error(`${src} could not be loaded (missing?)${hint ? ": " + hint : ""}`));
      document.head.appendChild(script);
    });
  }

  function base64Bytes(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  const ortHint = "the build fetches ONNX Runtime Web from npm into docs/play/ort (dotnet build; needs npm)";
  const modelHint = "write the model scripts with ldm-lite play --out docs/play/models";

  /**
   * ONNX Runtime on one WebAssembly thread: several threads need SharedArrayBuffer, which a browser grants only to a
   * cross-origin-isolated page, never to one opened from disk; no proxy worker either, for the same reason. The binary
   * is handed over as bytes and the glue module as a data: URL, which a page on file:// may import.
   */
  async function loadOrt() {
    await loadScript("ort/ort.wasm.min.js", ortHint);
    await loadScript("ort/ort-wasm.js", ortHint);
    const wasm = self.ldmOrtWasm;
    if (!self.ort || !wasm) throw new Error(`ort/ort-wasm.js did not define ONNX Runtime Web: ${ortHint}`);
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = base64Bytes(wasm.binary);
    ort.env.wasm.wasmPaths = { mjs: "data:text/javascript;base64," + wasm.glue };
    return wasm.version;
  }

  /** One network: its script loaded, its kind checked, an inference session created. */
  async function loadNetwork(file, kind) {
    await loadScript(`models/${file}.js`, modelHint);
    const entry = self.ldmPlayFiles && self.ldmPlayFiles[file];
    if (!entry) throw new Error(`models/${file}.js holds no ${file}: ${modelHint}`);
    if (entry.kind !== kind) throw new Error(`models/${file}.js holds a ${entry.kind}, not a ${kind}`);
    let session;
    try {
      session = await ort.InferenceSession.create(base64Bytes(entry.bytes), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    } catch (e) {
      throw new Error(`models/${file}.js: ONNX Runtime cannot load ${file} (${e.message || e})`);
    }
    return { file, session, info: entry.model };
  }

  /** Everything the page needs: { version, unet, decoder, classifier }, each network { file, session, info }. */
  async function load(onProgress) {
    onProgress("Loading ONNX Runtime Web…");
    const version = await loadOrt();
    await loadScript("models/index.js", modelHint);
    const names = self.ldmPlayModels;
    if (!names || !names.unet || !names.decoder || !names.classifier)
      throw new Error(`models/index.js does not name the UNet, the decoder and the classifier: ${modelHint}`);
    onProgress(`Loading ${names.unet}…`);
    const unet = await loadNetwork(names.unet, "unet");
    onProgress(`Loading ${names.decoder}…`);
    const decoder = await loadNetwork(names.decoder, "vae-decoder");
    onProgress(`Loading ${names.classifier}…`);
    const classifier = await loadNetwork(names.classifier, "classifier");
    if (unet.info.objective !== "alpha-deblending")
      throw new Error(`${unet.file} is an ${unet.info.objective} model; this page runs the α-deblending samplers (iadb, heun, student)`);
    if (String(unet.info.latent_shape) !== String(decoder.info.latent_shape))
      throw new Error(`${unet.file} works on latents (${unet.info.latent_shape}) but ${decoder.file} takes (${decoder.info.latent_shape})`);
    return { version, unet, decoder, classifier };
  }

  return { load };
})();
