// The page: pick a digit (a button or its key), press Enter, watch the grid denoise, read what the classifier sees in
// each digit. Loading is runtime.js's, sampling sampler.js's; this file only wires the form, the keys and the canvas.
// body[data-state] is loading | ready | running | done | error, for the eye and for the browser test.
"use strict";

(() => {
  const $ = id => document.getElementById(id);
  const form = $("form"), status = $("status"), canvas = $("canvas");
  const play = { models: null, digit: 7, running: false, lastResult: null };
  window.ldmPlay = play;

  function setState(state) { document.body.dataset.state = state; }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = false;
    status.textContent = "";
    setState("error");
  }

  function pickDigit(digit) {
    play.digit = digit;
    for (const b of $("digits").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.digit === String(digit)));
  }

  for (const d of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "all"]) {
    const b = document.createElement("button");
    b.type = "button";
    b.id = `digit-${d}`;
    b.dataset.digit = String(d);
    b.textContent = d === "all" ? "0–9" : String(d);
    b.addEventListener("click", () => pickDigit(d));
    $("digits").appendChild(b);
  }
  pickDigit(play.digit);

  document.addEventListener("keydown", e => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if (!typing && /^[0-9]$/.test(e.key)) pickDigit(Number(e.key));
    else if (!typing && (e.key === "a" || e.key === "A")) pickDigit("all");
    else if (!typing && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); generate(); }
  });
  form.addEventListener("submit", e => { e.preventDefault(); generate(); });
  $("sampler").addEventListener("change", () => {
    const s = play.models.unet.info.samplers.find(x => x.name === $("sampler").value);
    $("steps").value = s.default_steps;
  });

  /** n images (n, 1, 32, 32) in [0, 1] as a grid, white on black like MNIST; readings under each when given. */
  function draw(images, n, readings, asked) {
    const cols = Math.ceil(Math.sqrt(n)), rows = Math.ceil(n / cols);
    const scale = Math.max(1, Math.min(4, Math.floor(560 / (cols * 34))));
    const cell = 32 * scale, gap = 2, label = readings ? 16 : 0;
    const width = cols * (cell + gap), height = rows * (cell + gap + label);
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
    const g = canvas.getContext("2d");
    g.fillStyle = "#fafafa";
    g.fillRect(0, 0, width, height);
    g.imageSmoothingEnabled = false;
    const tile = new OffscreenCanvas(32, 32), tg = tile.getContext("2d"), pixels = tg.createImageData(32, 32);
    for (let k = 0; k < n; k++) {
      for (let p = 0; p < 1024; p++) {
        const v = Math.round(255 * images[k * 1024 + p]);
        pixels.data.set([v, v, v, 255], 4 * p);
      }
      tg.putImageData(pixels, 0, 0);
      const x = (k % cols) * (cell + gap), y = Math.floor(k / cols) * (cell + gap + label);
      g.drawImage(tile, x, y, cell, cell);
      if (readings) {
        const r = readings[k], ok = r.label === asked[k];
        g.fillStyle = ok ? "#1e7b34" : "#b3261e";
        g.font = `${Math.min(13, 6 + scale * 2)}px system-ui, sans-serif`;
        g.fillText(`${ok ? "✓" : "✗"} ${r.label} ${Math.round(100 * r.confidence)}%`, x + 2, y + cell + label - 4);
      }
    }
  }

  function intOf(input, low, high, what) {
    const v = Number(input.value);
    if (!Number.isInteger(v) || v < low || v > high) throw new Error(`${what} must be a whole number in ${low}..${high} (got ${input.value})`);
    return v;
  }

  async function generate() {
    if (!play.models || play.running) return;
    play.running = true;
    $("generate").disabled = true;
    $("error").hidden = true;
    setState("running");
    try {
      const n = intOf($("count"), 1, 100, "Count"), seed = intOf($("seed"), 0, Number.MAX_SAFE_INTEGER, "Seed");
      const digits = Array.from({ length: n }, (_, i) => play.digit === "all" ? i % 10 : play.digit);
      const optional = input => input.value.trim() === "" ? null : Number(input.value);  // empty: the model's default
      $("readings").replaceChildren();
      $("summary").textContent = "";
      const start = performance.now();
      const result = await LdmSampler.generate(play.models, {
        digits, seed, sampler: $("sampler").value, steps: optional($("steps")), guidance: optional($("guidance")),
      }, async (step, steps, images) => {
        status.textContent = `Step ${step} of ${steps}…`;
        draw(images, n, null, digits);
        await new Promise(r => setTimeout(r, 0));                                     // let the browser paint the frame
      });
      const seconds = (performance.now() - start) / 1000;
      draw(result.images, n, result.readings, digits);
      const asked = result.readings.filter((r, k) => r.label === digits[k]).length;
      for (const [k, r] of result.readings.entries()) {
        const li = document.createElement("li");
        li.dataset.asked = digits[k];
        li.dataset.read = r.label;
        li.dataset.confidence = r.confidence.toFixed(4);
        li.className = r.label === digits[k] ? "ok" : "miss";
        li.textContent = `#${k} asked ${digits[k]}, read ${r.label} ${Math.round(100 * r.confidence)}%`;
        $("readings").appendChild(li);
      }
      const interval = result.interval ? ` in [${result.interval.join(", ")}]` : "";
      $("summary").textContent = `${n} digits from ${play.models.unet.file}: ${result.sampler} ${result.steps} steps, guidance ${result.guidance}${interval}, seed ${seed}: ` +
        `${seconds.toFixed(2)} s; ${asked} of ${n} read as asked.`;
      status.textContent = `Done in ${seconds.toFixed(2)} s. Press Enter for the next seed.`;
      document.body.dataset.seconds = seconds.toFixed(3);
      play.lastResult = { digits, seed, seconds, readings: result.readings, images: Array.from(result.images) };
      $("seed").value = seed + 1;
      setState("done");
    } catch (e) {
      showError(e.message || String(e));
    } finally {
      play.running = false;
      $("generate").disabled = false;
    }
  }

  LdmRuntime.load(text => { status.textContent = text; }).then(models => {
    play.models = models;
    const info = models.unet.info;
    for (const s of info.samplers.filter(s => LdmSampler.samplers[s.name])) {
      const option = new Option(`${s.name} (${s.title})`, s.name);
      option.selected = s.name === info.default_sampler;
      $("sampler").add(option);
    }
    $("steps").value = info.samplers.find(s => s.name === $("sampler").value).default_steps;
    $("guidance").value = info.guidance ?? 1;
    $("generate").disabled = false;
    status.textContent = `Ready: ${models.unet.file}, ${models.decoder.file} and ${models.classifier.file} on ONNX Runtime Web ${models.version}. ` +
      "Pick a digit and press Enter.";
    setState("ready");
  }, e => showError(e.message || String(e)));
})();
