// Sampling in the browser: ldm-lite's generation (LatentDiffusion.Onnx: LiteGenerator, Sampling/AlphaDeblendingSampler,
// Sampling/Denoiser, Sampling/Gaussian) in JavaScript, the same float32 arithmetic in the same order, with every
// constant — latent shape and scale, α scale, the samplers' default steps, the guidance weight and interval, the
// "no label" index — read from the UNet's ldm.model metadata. Noise: the same seeded generator as ldm-lite's, so a
// seed gives the digits `ldm-lite generate` gives for it (to the rounding of ONNX Runtime Web's kernels).
"use strict";

const LdmSampler = (() => {
  const MASK = (1n << 64n) - 1n;
  const rotl = (x, k) => ((x << k) | (x >> (64n - k))) & MASK;

  /**
   * Seeded N(0, 1) float32 draws: Box–Muller on 53-bit uniform doubles from xoshiro256** (Blackman and Vigna 2018), its
   * state filled by SplitMix64 from the seed — ldm-lite's Gaussian.cs, in BigInt arithmetic modulo 2^64.
   */
  class Gaussian {
    constructor(seed) {
      let x = BigInt.asUintN(64, BigInt(seed));
      const splitMix = () => {
        x = (x + 0x9E3779B97F4A7C15n) & MASK;
        let z = x;
        z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK;
        z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & MASK;
        return z ^ (z >> 31n);
      };
      this.s = [splitMix(), splitMix(), splitMix(), splitMix()];
    }

    /** xoshiro256**: rotl(s1·5, 7)·9, then the state's xor-shift-rotate update. */
    nextUInt64() {
      const s = this.s;
      const result = (rotl((s[1] * 5n) & MASK, 7n) * 9n) & MASK;
      const t = (s[1] << 17n) & MASK;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 45n);
      return result;
    }

    uniform() { return Number(this.nextUInt64() >> 11n) * 2 ** -53; }

    /** `count` independent standard normal draws, as float32. */
    next(count) {
      const values = new Float32Array(count);
      for (let i = 0; i < count; i += 2) {
        const u1 = 1.0 - this.uniform(), u2 = this.uniform();                   // u1 ∈ (0, 1]: log is finite
        const r = Math.sqrt(-2.0 * Math.log(u1)), theta = 2.0 * Math.PI * u2;
        values[i] = r * Math.cos(theta);
        if (i + 1 < count) values[i + 1] = r * Math.sin(theta);
      }
      return values;
    }
  }

  const latentSize = info => info.latent_shape.reduce((a, d) => a * d, 1);

  /** The UNet on (batch, C, h, w) latents at one network time; labels one a sample (BigInt64Array). */
  async function runUNet(unet, x, batch, time, labels) {
    const info = unet.info;
    const feeds = {
      x: new ort.Tensor("float32", x, [batch, ...info.latent_shape]),
      t: new ort.Tensor("float32", new Float32Array(batch).fill(time), [batch]),
    };
    if (info.classes > 0) feeds.labels = new ort.Tensor("int64", labels, [batch]);
    const out = await unet.session.run(feeds);
    return out.prediction.data;
  }

  /**
   * The denoiser a sampler integrates: classifier-free guidance (Ho and Salimans 2022, eq. 6), ε̃ = ε(x, ∅) +
   * w·(ε(x, y) − ε(x, ∅)), conditional and unconditional halves as one batch of 2B, only inside the guidance interval
   * (Kynkäänniemi et al. 2024) given in the network's time units; the plain conditional prediction elsewhere.
   */
  function guided(unet, digits, w, interval) {
    const n = digits.length, info = unet.info;
    const labels = BigInt64Array.from(digits, d => BigInt(d));
    const both = BigInt64Array.from([...digits, ...digits.map(() => info.no_label)], d => BigInt(d));
    const conditional = (x, time) => runUNet(unet, x, n, time, labels);
    if (w === 1) return conditional;
    if (w === 0) return (x, time) => runUNet(unet, x, n, time, BigInt64Array.from(digits, () => BigInt(info.no_label)));
    const wf = Math.fround(w);
    return async (x, time) => {
      if (interval && (time < interval[0] || time > interval[1])) return conditional(x, time);
      const doubled = new Float32Array(2 * x.length);                     // (2B, C, h, w)
      doubled.set(x);
      doubled.set(x, x.length);
      const out = await runUNet(unet, doubled, 2 * n, time, both);
      const result = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const cond = out[i], uncond = out[x.length + i];
        result[i] = uncond + Math.fround(Math.fround(cond - uncond) * wf);  // unconditional + w·(conditional − unconditional)
      }
      return result;
    };
  }

  /**
   * Iterative α-(de)blending (Heitz, Belcour and Chambon 2023): from x at α = 1 to α = 0 over S uniform steps α_k = k/S,
   * the network seeing α·scale. Euler (iadb): x + (α' − α)·D(x, α). Heun (Karras et al. 2022, Algorithm 1): the Euler
   * guess x̃, then x + (α' − α)·(D(x, α) + D(x̃, α'))/2; Euler on the last step into α = 0. `onStep(k, x)` after each step.
   */
  async function alphaDeblending(network, x, steps, scale, heun, onStep) {
    for (let k = steps; k >= 1; k--) {
      const alpha = k / steps, alphaNext = (k - 1) / steps;
      const h = Math.fround(alphaNext - alpha);
      const d = await network(x, alpha * scale);
      if (heun && k > 1) {
        const euler = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) euler[i] = x[i] + Math.fround(d[i] * h);
        const dNext = await network(euler, alphaNext * scale);
        const half = Math.fround((alphaNext - alpha) / 2);
        for (let i = 0; i < x.length; i++) x[i] = x[i] + Math.fround(Math.fround(d[i] + dNext[i]) * half);
      } else {
        for (let i = 0; i < x.length; i++) x[i] = x[i] + Math.fround(d[i] * h);
      }
      if (onStep) await onStep(steps - k + 1, x);
    }
    return x;
  }

  /** Scaled latents (n, C, h, w) → images (n, 1, 32, 32) in [0, 1]: ÷ latent scale, decode, clip. */
  async function decode(models, z, n) {
    const scale = Math.fround(models.unet.info.latent_scale);
    const unscaled = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) unscaled[i] = z[i] / scale;
    const out = await models.decoder.session.run({ z: new ort.Tensor("float32", unscaled, [n, ...models.decoder.info.latent_shape]) });
    const image = out.image.data;
    for (let i = 0; i < image.length; i++) image[i] = Math.min(1, Math.max(0, image[i]));
    return image;
  }

  /** Part 1's classifier on images (n, 1, 32, 32) in [0, 1]: each image's label and its softmax probability. */
  async function classify(models, images, n) {
    const out = await models.classifier.session.run({ image: new ort.Tensor("float32", images, [n, 1, 32, 32]) });
    const logits = out.logits.data, classes = logits.length / n, readings = [];
    for (let k = 0; k < n; k++) {
      const row = logits.subarray(k * classes, (k + 1) * classes);
      const max = Math.max(...row);
      let sum = 0, label = 0;
      for (let c = 0; c < classes; c++) {
        sum += Math.exp(row[c] - max);
        if (row[c] > row[label]) label = c;
      }
      readings.push({ label, confidence: 1 / sum });
    }
    return readings;
  }

  /**
   * The samplers this page runs, by the library's names; the UNet's metadata says which fit it and their steps. A
   * distilled student's sampler is the Euler one under its own name, at the step counts its metadata allows (student_steps).
   */
  const samplers = { iadb: { heun: false }, heun: { heun: true }, student: { heun: false } };

  /**
   * Digits: request { digits (one a sample), seed, sampler, steps, guidance, interval [low, high] } with the metadata's
   * defaults for what it leaves out. `onFrame(step, steps, images)` gets a decoded frame every `frameEvery` steps and at
   * the end. Returns { images, readings, sampler, steps, guidance, interval }.
   */
  async function generate(models, request, onFrame) {
    const info = models.unet.info;
    const sampler = request.sampler || info.default_sampler;
    const fits = info.samplers.find(s => s.name === sampler);
    if (!fits || !samplers[sampler]) throw new Error(`the ${sampler} sampler does not run here; use ${Object.keys(samplers).join(" or ")}`);
    const steps = request.steps ?? fits.default_steps;
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= fits.max_steps)) throw new Error(`steps must be a whole number in 1..${fits.max_steps} (got ${steps})`);
    if (info.student_steps && !info.student_steps.includes(steps))
      throw new Error(`${models.unet.file} is a distilled student: it samples in ${info.student_steps.join(", ")} steps (got ${steps})`);
    const n = request.digits.length;
    const w = request.guidance ?? info.guidance ?? 1;
    if (!(w >= 0 && Number.isFinite(w))) throw new Error(`guidance must be a finite number ≥ 0 (got ${w})`);
    const interval = request.interval ?? info.guidance_interval ?? null;
    const scale = info.alpha_scale;
    const scaled = interval ? [interval[0] * scale - 1e-9, interval[1] * scale + 1e-9] : null;
    const x = new Gaussian(request.seed).next(n * latentSize(info));
    const network = guided(models.unet, request.digits, w, scaled);
    const frameEvery = Math.max(1, Math.ceil(steps / (request.frames ?? 25)));
    const z = await alphaDeblending(network, x, steps, scale, samplers[sampler].heun, async (step, current) => {
      if (onFrame && step < steps && step % frameEvery === 0) await onFrame(step, steps, await decode(models, current, n));
    });
    const images = await decode(models, z, n);
    const readings = await classify(models, images, n);
    if (onFrame) await onFrame(steps, steps, images);
    return { images, readings, sampler, steps, guidance: w, interval };
  }

  return { Gaussian, generate, samplers };
})();
