// ldm serve's page: pick a model and sampler, stream the denoising frames of POST /api/generate (server-sent events
// over fetch, so that closing the tab or pressing Cancel aborts the request and the server stops sampling), show the
// final grid with the classifier's readings; a second tab shows the reports under /docs.
"use strict";

const $ = id => document.getElementById(id);
const state = { models: [], defaultGuidance: 2, controller: null };

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

function setState(value) { document.body.dataset.state = value; }

function currentModel() { return state.models.find(m => m.id === $("model").value); }

function currentSampler() {
  const model = currentModel();
  return model ? model.samplers.find(s => s.name === $("sampler").value) : undefined;
}

async function loadModels() {
  const response = await fetch("/api/models");
  const info = await response.json();
  state.models = info.models;
  state.defaultGuidance = info.default_guidance;
  const select = $("model");
  select.replaceChildren();
  for (const m of info.models) {
    const option = new Option(m.problem ? `${m.id} (unusable)` : `${m.id}: ${m.description}`, m.id);
    option.disabled = !!m.problem;
    select.append(option);
  }
  const usable = info.models.find(m => !m.problem);
  if (usable) select.value = usable.id;
  $("count").max = info.limits.max_count;
  $("count").value = info.limits.default_count;
  $("guidance").value = info.default_guidance;
  $("guidance").max = info.limits.max_guidance;
  $("eta").max = info.limits.max_eta;
  $("generate").disabled = !usable;
  onModelChange();
  setStatus(usable ? `Ready: ${info.models.length} model(s); digits decoded by ${info.vae}, read by ${info.classifier}.`
                   : "No usable diffusion model in the models folder yet.", !usable);
  setState("ready");
}

function onModelChange() {
  const model = currentModel();
  const sampler = $("sampler");
  sampler.replaceChildren();
  if (!model) return;
  for (const s of model.samplers) {
    const option = new Option(s.name, s.name);
    option.title = s.summary;
    sampler.append(option);
  }
  $("model-description").textContent = model.problem || (model.dataset === "MNIST" ? model.description : `${model.description}, ${model.dataset}`);
  $("dataset").textContent = model.dataset;
  showClasses(model);
  if (model.conditional) $("guidance").value = model.default_guidance ?? state.defaultGuidance;
  for (const field of document.querySelectorAll(".conditional"))
    for (const input of field.querySelectorAll("input, select")) input.disabled = !model.conditional;
  onSamplerChange();
}

// The class picker lists the model's classes by name; MNIST's are its digits, and the picker says "Digit".
function showClasses(model) {
  const digits = isMnist(model);
  $("digit-label").textContent = digits ? "Digit" : "Class";
  const select = $("digit");
  const kept = select.value;
  select.replaceChildren(new Option("random", ""));
  model.class_names.forEach((name, index) => select.append(new Option(name, String(index))));
  select.value = kept !== "" && Number(kept) < model.class_names.length ? kept : "";
}

function isMnist(model) { return model.dataset === "MNIST"; }

function className(model, index) { return model && index < model.class_names.length ? model.class_names[index] : String(index); }

function onSamplerChange() {
  const s = currentSampler();
  if (!s) return;
  $("steps").value = s.default_steps;
  $("steps").max = s.max_steps;
  $("steps").disabled = s.fixed_steps;
  // The sampler's own options (GET /api/models lists which it reads); each has a field of that name.
  for (const field of document.querySelectorAll("[data-parameter]")) field.hidden = !s.parameters.includes(field.dataset.parameter);
  $("sampler-summary").textContent = `${s.summary}; ${evaluations(s, s.default_steps)} network evaluations at ${s.default_steps} steps`;
}

function evaluations(sampler, steps) { return sampler.evaluations_per_step * steps + sampler.evaluations_offset; }

function request() {
  const model = currentModel();
  const sampler = currentSampler();
  const body = { model: model.id, sampler: sampler.name, steps: Number($("steps").value), count: Number($("count").value) };
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  if (model.conditional) {
    if ($("digit").value !== "") body[isMnist(model) ? "digit" : "class"] = Number($("digit").value);
    body.guidance = Number($("guidance").value);
  }
  if (sampler.parameters.includes("eta") && Number($("eta").value) > 0) body.eta = Number($("eta").value);
  return body;
}

async function generate(event) {
  event.preventDefault();
  if (state.controller) return;
  const controller = new AbortController();
  state.controller = controller;
  $("generate").disabled = true;
  $("cancel").disabled = false;
  $("readings").replaceChildren();
  $("summary").textContent = "";
  $("progress").value = 0;
  $("progress").hidden = false;
  document.body.dataset.frames = "0";
  setState("running");
  setStatus("Sending…");
  try {
    const response = await fetch("/api/generate", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify(request()),
      signal: controller.signal,
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ error: response.statusText }));
      setStatus(`${response.status}: ${problem.error}`, true);
      setState("error");
      return;
    }
    await readEvents(response.body, onEvent);
  } catch (e) {
    if (e.name === "AbortError") { setStatus("Cancelled."); setState("cancelled"); }
    else { setStatus(`Failed: ${e.message}`, true); setState("error"); }
  } finally {
    state.controller = null;
    $("generate").disabled = false;
    $("cancel").disabled = true;
    $("progress").hidden = true;
  }
}

// Server-sent events read from a fetch body: blocks separated by a blank line, "event:" and "data:" lines.
async function readEvents(stream, handle) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) handle(name, JSON.parse(data));
    }
  }
}

function onEvent(name, data) {
  switch (name) {
    case "queued":
      setStatus(`Waiting: place ${data.position} in line (${data.running} running, ${data.waiting} waiting).`);
      setState("queued");
      break;
    case "started":
      setStatus(`Sampling ${data.count} ${isMnist(currentModel()) ? "digits" : "images"} with ${data.sampler}, ${data.steps} steps, seed ${data.seed}…`);
      setState("running");
      break;
    case "frame":
      document.body.dataset.frames = String(Number(document.body.dataset.frames) + 1);
      showGrid(data.png, `step ${data.step} of ${data.steps}`);
      $("progress").value = data.step / data.steps;
      setStatus(`Denoising: step ${data.step} of ${data.steps}…`);
      break;
    case "result":
      showResult(data);
      break;
    case "error":
      setStatus(data.error, true);
      setState("error");
      break;
  }
}

function showGrid(png, alt) {
  $("result").hidden = false;
  $("grid").src = `data:image/png;base64,${png}`;
  $("grid").alt = `The generated images, ${alt}`;
}

function showResult(data) {
  showGrid(data.grid_png, "final");
  const hits = data.digits.filter(d => d.requested === null || d.requested === d.label).length;
  const asked = data.digits.some(d => d.requested !== null);
  const guidance = data.guidance === null ? "" : `, guidance ${data.guidance}`;
  const model = state.models.find(m => m.id === data.model);
  const noun = data.dataset === "MNIST" ? "digits" : "images";
  $("summary").textContent =
    `${data.count} ${noun} from ${data.model} (${data.description}), ${data.sampler} ${data.steps} steps` +
    `${guidance}, seed ${data.seed}: ${data.seconds.toFixed(2)} s` +
    (data.queued_seconds >= 0.05 ? ` after ${data.queued_seconds.toFixed(1)} s in the queue` : "") +
    (asked ? `; the classifier reads ${hits} of ${data.count} as asked.` : ".");
  const list = $("readings");
  list.replaceChildren();
  for (const d of data.digits) {
    const item = document.createElement("li");
    item.className = "reading" + (d.requested !== null && d.requested !== d.label ? " miss" : "");
    const asked = d.requested === null ? "" : `asked ${className(model, d.requested)}, `;
    item.innerHTML = `<span class="index">#${d.index + 1}</span> ${escapeHtml(asked)}read <b class="label">${escapeHtml(className(model, d.label))}</b> <span class="confidence">${(100 * d.confidence).toFixed(0)}%</span>`;
    list.append(item);
  }
  setStatus(`Done in ${data.seconds.toFixed(2)} s.`);
  setState("done");
}

// The reports tab: the FID table out of part 3's report, and each report in a frame.
let reportsLoaded = false;

async function loadReports() {
  if (reportsLoaded) return;
  reportsLoaded = true;
  const info = await (await fetch("/api/reports")).json();
  const links = $("report-links");
  links.replaceChildren();
  if (info.reports.length === 0) {
    $("fid-table").innerHTML = "<p>No reports: the server was started without a docs folder.</p>";
    return;
  }
  for (const r of info.reports) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = r.title.replace(/^Latent Diffusion Series, /, "");
    button.dataset.url = r.url;
    button.addEventListener("click", () => openReport(button));
    links.append(button);
  }
  openReport(links.querySelector("button"));
  const fid = info.reports.find(r => r.name === "part3");
  $("fid-table").replaceChildren(...(fid ? await fidTable(fid.url) : [text("p", "Part 3's report is not in the docs folder.")]));
}

async function fidTable(url) {
  const page = new DOMParser().parseFromString(await (await fetch(url)).text(), "text/html");
  const heading = [...page.querySelectorAll("h2")].find(h => h.textContent.trim() === "FID");
  const found = [];
  for (let node = heading && heading.nextElementSibling; node && node.tagName !== "H2"; node = node.nextElementSibling) {
    if (node.tagName === "TABLE" || node.querySelector("table") || (node.tagName === "P" && found.length)) found.push(document.importNode(node, true));
  }
  return found.length ? found : [text("p", "No FID table in part 3's report.")];
}

function escapeHtml(s) { return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`); }

function text(tag, content) { const e = document.createElement(tag); e.textContent = content; return e; }

function openReport(button) {
  for (const b of $("report-links").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
  $("report-frame").hidden = false;
  $("report-frame").src = button.dataset.url;
}

function showTab(name) {
  for (const tab of ["generate", "reports"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`panel-${tab}`).hidden = tab !== name;
  }
  if (name === "reports") loadReports().catch(e => { $("fid-table").textContent = `Could not load the reports: ${e.message}`; });
  history.replaceState(null, "", name === "reports" ? "#reports" : "#");
}

$("tab-generate").addEventListener("click", () => showTab("generate"));
$("tab-reports").addEventListener("click", () => showTab("reports"));
$("model").addEventListener("change", onModelChange);
$("sampler").addEventListener("change", onSamplerChange);
$("form").addEventListener("submit", generate);
$("cancel").addEventListener("click", () => state.controller && state.controller.abort());
if (location.hash === "#reports") showTab("reports");
loadModels().catch(e => { setStatus(`Could not load the models: ${e.message}`, true); setState("error"); });
