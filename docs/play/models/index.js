// The networks docs/play runs; written by ldm-lite play (LatentDiffusion.Onnx/BrowserModels.cs). Do not edit.
self.ldmPlayModels = {
  "unet": "conditional.onnx",
  "decoder": "latent-vae.decoder.onnx",
  "classifier": "classifier.onnx"
};
