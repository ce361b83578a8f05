// The explorer: replays a recorded run embedded in the page as JSON (see backproplab/web/explorer.py).
import { createChart, createNetworkView, decode, drawBoundary, fmt, healthNotes, LAYER_COLORS, mix } from "./common.js";

const payload = JSON.parse(document.getElementById("bp-data").textContent);
if (payload.version !== 1) throw new Error(`explorer data version ${payload.version} is not supported`);
const meta = payload.meta;
const epochs = payload.epochs;
const A = Object.fromEntries(Object.entries(payload.arrays).map(([k, v]) => [k, decode(v)]));
const F = epochs.length;
const sizes = meta.sizes;
const L = sizes.length - 1;  // Dense layers
const layerNames = Array.from({ length: L }, (_, l) => (l === L - 1 ? "output" : `hidden ${l + 1}`));
const kinds = meta.activations.map((k) => k.replace("output:", ""));

// The slice of frame f of an array whose first axis is the frame axis.
function frame(name, f) {
  const { shape, data } = A[name];
  const size = data.length / shape[0];
  return data.subarray(f * size, (f + 1) * size);
}

const weightNames = meta.dense.map((i) => `p:${i}.W`);
const maxAbs = weightNames.map((n) => A[n].data.reduce((m, w) => Math.max(m, Math.abs(w)), 0));
const P = A.probe_x.shape[0], D = A.probe_x.shape[1], K = A.probe_y.shape[1];

// --- summary and controls -------------------------------------------------------------
const runText = meta.runs ? `, run ${meta.run} of ${meta.runs}` : "";
const normed = meta.batch_norm || [];  // per Dense layer: a batch norm follows (recordings before it: none)
document.getElementById("summary").textContent =
  `network ${sizes.join("–")}, ${[...new Set(kinds.slice(0, -1))].join("/") || "no hidden"} hidden units` +
  `${normed.some(Boolean) ? " with batch norm" : ""}, ${meta.output} output, ` +
  `${meta.loss.replaceAll("_", " ")} loss, ${meta.optimizer}, ${meta.epochs} epochs${runText}; ${F} frames, one every ${meta.every} epochs.`;

const slider = document.getElementById("epoch");
slider.max = F - 1;
const label = document.getElementById("epoch-label");
const probeSelect = document.getElementById("probe");
const probeX = A.probe_x.data, probeY = A.probe_y.data;
for (let p = 0; p < P; p++) {
  const x = Array.from(probeX.subarray(p * D, (p + 1) * D)).slice(0, 4).map(fmt).join(", ");
  probeSelect.add(new Option(`(${x}${D > 4 ? ", …" : ""})`, p));
}

// --- panels ---------------------------------------------------------------------------
const tooltip = document.getElementById("tooltip");
let hovered = null;
const netView = createNetworkView(document.getElementById("network"), sizes, (l, u, event) => {
  hovered = l === null ? null : { l, u, target: event.target };
  showTooltip();
});
const lossChart = createChart(document.getElementById("loss"), { logY: true, yLabel: "training loss" });
const history = A.loss_history.data;
lossChart.setSeries([{ name: "loss", xs: Array.from(history, (_, i) => i + 1), ys: history, color: "#333" }]);
const gradChart = createChart(document.getElementById("gradflow"), { logY: true, yLabel: "‖∂L/∂W‖" });
gradChart.setSeries(layerNames.map((name, l) => ({
  name, xs: epochs, ys: Array.from({ length: F }, (_, f) => frame("grad_norm", f)[l]), color: LAYER_COLORS[l % LAYER_COLORS.length],
})));

const hasGrid = Boolean(A.grid);
if (!hasGrid) document.getElementById("boundary-panel").hidden = true;
const points = [];
if (hasGrid) {
  const X = A.X.data, Y = A.y.data, Ky = A.y.shape[1];
  for (let i = 0; i < A.X.shape[0]; i++) {
    const y = Y.subarray(i * Ky, (i + 1) * Ky);
    points.push({ x: X[2 * i], y: X[2 * i + 1], label: Ky === 1 ? (y[0] > 0.5 ? 1 : 0) : y.indexOf(Math.max(...y)) });
  }
}
// --- loss landscape: the PCA plane of the path (centred on the last frame), the path, this frame's point ----------
const land = payload.landscape;
const landCanvas = document.getElementById("landscape");
let landImage = null;
if (land && A.landscape_loss) {
  document.getElementById("landscape-panel").hidden = false;
  const S = A.landscape_loss.shape[0], grid = A.landscape_loss.data;
  const logs = Array.from(grid, (v) => Math.log(Math.max(v, 1e-12)));
  const lo = Math.min(...logs), hi = Math.max(...logs);
  landImage = new ImageData(S, S);
  for (let r = 0; r < S; r++) {
    for (let c = 0; c < S; c++) {  // grid row r is beta ascending: draw it bottom-up
      const t = (logs[r * S + c] - lo) / (hi - lo || 1);
      const color = t < 0.5 ? mix([68, 1, 84], [33, 145, 140], 2 * t) : mix([33, 145, 140], [253, 231, 37], 2 * t - 1);
      landImage.data.set([color[0], color[1], color[2], 255], ((S - 1 - r) * S + c) * 4);
    }
  }
}

function renderLandscape(f) {
  if (!landImage) return;
  const ctx = landCanvas.getContext("2d"), W = landCanvas.width, H = landCanvas.height, span = land.span;
  const off = document.createElement("canvas");
  off.width = off.height = landImage.width;
  off.getContext("2d").putImageData(landImage, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, W, H);
  const path = A.landscape_path.data;
  const px = (a) => ((a + span) / (2 * span)) * W, py = (b) => H - ((b + span) / (2 * span)) * H;
  ctx.beginPath();
  for (let k = 0; k < F; k++) ctx[k ? "lineTo" : "moveTo"](px(path[2 * k]), py(path[2 * k + 1]));
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.fillStyle = "#d62728";
  ctx.fillRect(px(path[2 * f]) - 5, py(path[2 * f + 1]) - 5, 10, 10);
  const [e1, e2] = land.explained;
  document.getElementById("landscape-note").textContent =
    `epoch ${epochs[f]}: loss ${fmt(land.true_loss[f])}, the plane's at this point's shadow ${fmt(land.plane_loss[f])}; ` +
    `the plane holds ${(100 * (e1 + e2)).toFixed(1)} % of the path's variance (axes ±${fmt(span)}).`;
}

// Probe p is training row probeIndex[p] when it is among the drawn points: find it by value.
function pointIndexOf(p) {
  return points.findIndex((q) => q.x === probeX[p * D] && q.y === probeX[p * D + 1]);
}

function unitValues(f, p, l, u) {
  // Values of unit u of Dense layer l (0-based) for probe p at frame f.
  const n = sizes[l + 1];
  return ["z", "a", "delta"].map((key) => frame(`${key}:${l}`, f)[p * n + u]);
}

// --- the worked numbers on hover (as `backproplab trace` prints them) -----------------------
// Formulas of unit u of Dense layer j: forward, the activation's slope (from a, as the layers compute it).
const ACT = {
  sigmoid: ["σ(z)", "a (1 − a)", (z, a) => a * (1 - a)],
  tanh: ["tanh(z)", "1 − a²", (z, a) => 1 - a * a],
  relu: ["max(z, 0)", "1 if z > 0 else 0", (z) => (z > 0 ? 1 : 0)],
  leaky_relu: ["z if z > 0 else α z", "1 if z > 0 else α", null],
  identity: ["z", "1", () => 1],
};
const OUT = { sigmoid: "σ(z)", softmax: "softmax(z)", identity: "z" };

function outputDelta() {
  // dL/dz of one row for the paired output and loss (the recording undoes the batch mean).
  const k = sizes[L];
  if (meta.output === "identity") return k > 1 ? "2 (p − y) / K" : "2 (p − y)";
  return meta.output === "sigmoid" && k > 1 ? "(p − y) / K" : "p − y";
}

function workedTable(f, p, j, u) {
  // Rows (quantity, formula, value) for unit u of Dense layer j, probe p, frame f; no " = " in the text, so
  // each line of the tooltip that has one stays "name = value".
  const n = sizes[j + 1], nPrev = sizes[j];
  const [z, a, d] = unitValues(f, p, j, u);
  const aPrev = j === 0 ? probeX.subarray(p * D, (p + 1) * D) : frame(`a:${j - 1}`, f).subarray(p * nPrev, (p + 1) * nPrev);
  const sub = (i) => `<sub>${i}</sub>`;
  const rows = [[`z${sub(u + 1)}`, `a<sub>prev</sub> · W[:, ${u + 1}] + b${sub(u + 1)}`, z]];
  if (j === L - 1) {
    rows.push([`p${sub(u + 1)}`, OUT[meta.output] || kinds[j], a], ["δ", outputDelta(), d]);
  } else {
    const [fwd, slope, slopeOf] = ACT[kinds[j]] || [kinds[j], "f′(z)", null];
    const nNext = sizes[j + 2], Wn = frame(`p:${meta.dense[j + 1]}.W`, f), dn = frame(`delta:${j + 1}`, f);
    let da = 0;
    for (let k = 0; k < nNext; k++) da += dn[p * nNext + k] * Wn[u * nNext + k];
    const fp = slopeOf ? slopeOf(z, a) : null;
    // Batch norm between z and the activation changes the slope: then show the one the numbers imply.
    const plain = fp !== null && Math.abs(da * fp - d) <= 1e-6 * (Math.abs(d) + Math.abs(da * fp)) + 1e-300;
    rows.push(["a", fwd, a], ["∂L/∂a", "Σ<sub>k</sub> δ<sub>next,k</sub> · W<sub>next</sub>[" + (u + 1) + ", k]", da]);
    rows.push(plain ? ["f′(z)", slope, fp] : ["f′ (via δ / ∂L/∂a)", "through batch norm", da ? d / da : NaN]);
    rows.push(["δ", "∂L/∂a · f′(z)", d]);
  }
  rows.push([`∂L/∂b${sub(u + 1)}`, "δ", d]);
  const shown = Math.min(nPrev, 8);
  for (let i = 0; i < shown; i++) rows.push([`∂L/∂W[${i + 1}, ${u + 1}]`, `a<sub>prev,${i + 1}</sub> · δ`, aPrev[i] * d]);
  if (nPrev > shown) rows.push([`… ${nPrev - shown} more`, "", null]);
  const body = rows.map(([q, formula, v]) => `<tr><td>${q}</td><td>${formula}</td><td>${v === null ? "" : fmt(v)}</td></tr>`);
  return `<table class="worked"><caption>worked numbers, this input alone</caption>${body.join("")}</table>`;
}

function fillOf(value, kind) {
  if (kind === "sigmoid" || kind === "softmax") return 2 * value - 1;
  if (kind === "tanh") return value;
  return Math.tanh(value);
}

function showTooltip() {
  if (!hovered) { tooltip.hidden = true; return; }
  const f = Number(slider.value), p = Number(probeSelect.value);
  const { l, u, target } = hovered;
  let html;
  if (l === 0) {
    html = `<b>input ${u + 1}</b><br>x = ${fmt(probeX[p * D + u])}`;
  } else {
    const [z, a, d] = unitValues(f, p, l - 1, u);
    // Under batch norm the recorded z is x·W + b before the normalisation, not the activation's input.
    const zLabel = normed[l - 1] ? "z before batch norm" : "pre-activation z";
    html = `<b>${layerNames[l - 1]}, unit ${u + 1}</b> (${kinds[l - 1]})<br>${zLabel} = ${fmt(z)}<br>` +
      `activation a = ${fmt(a)}<br>delta δ = ∂L/∂z = ${fmt(d)}`;
  }
  tooltip.innerHTML = html + `<br><span class="muted">input ${probeSelect.options[p].text}, epoch ${epochs[f]}</span>`;
  if (l > 0) tooltip.insertAdjacentHTML("beforeend", workedTable(f, p, l - 1, u));
  const box = target.getBoundingClientRect(), panel = tooltip.parentElement.getBoundingClientRect();
  tooltip.style.left = `${box.right - panel.left + 8}px`;
  tooltip.style.top = `${box.top - panel.top - 8}px`;
  tooltip.hidden = false;
}

function renderHealth(f) {
  const g = frame("grad_norm", f), r = frame("update_ratio", f), h = frame("health", f), flags = frame("health_flags", f);
  const rows = [`<tr><th>layer</th><th>‖∂L/∂W‖</th><th>update / weight</th><th>saturated or dead</th><th>gradient</th></tr>`];
  const layers = [];
  for (let l = 0; l < L; l++) {
    const verdict = ["flows", "vanishing", "exploding"][flags[l]];
    const share = Number.isFinite(h[l]) ? `${(100 * h[l]).toFixed(0)} % ${kinds[l] === "relu" ? "dead" : "saturated"}` : "–";
    rows.push(`<tr><td>${layerNames[l]} (${kinds[l]})</td><td>${fmt(g[l])}</td><td>${fmt(r[l])}</td><td>${share}</td>` +
      `<td class="${flags[l] ? "bad" : "ok"}">${verdict}</td></tr>`);
    layers.push({ name: layerNames[l], flag: flags[l], grad: g[l], share: h[l], kind: kinds[l] });
  }
  const notes = healthNotes(layers);
  document.getElementById("health").innerHTML = rows.join("");
  document.getElementById("notes").innerHTML = notes.length
    ? notes.map((n) => `<p class="warn">${n}</p>`).join("")
    : `<p>Gradients reach every layer: no layer's gradient is a thousand times weaker or stronger than another's.</p>`;
}

function renderPredictions(f) {
  const out = frame(`a:${L - 1}`, f), Ko = sizes[L];
  const head = Array.from({ length: Math.min(D, 4) }, (_, i) => `<th>x${i + 1}</th>`).join("");
  const rows = [`<tr>${head}<th>target</th><th>predicted</th><th></th></tr>`];
  for (let p = 0; p < P; p++) {
    const x = Array.from(probeX.subarray(p * D, p * D + Math.min(D, 4))).map((v) => `<td>${fmt(v)}</td>`).join("");
    const y = probeY.subarray(p * K, (p + 1) * K), o = out.subarray(p * Ko, (p + 1) * Ko);
    let target, predicted, ok;
    if (Ko === 1) {
      target = fmt(y[0]); predicted = o[0].toFixed(4);
      ok = meta.output === "sigmoid" ? (o[0] >= 0.5) === (y[0] > 0.5) : null;
    } else {
      const t = y.indexOf(Math.max(...y)), c = o.indexOf(Math.max(...o));
      target = `class ${t}`; predicted = `class ${c} (${o[c].toFixed(3)})`; ok = t === c;
    }
    const mark = ok === null ? "" : ok ? `<td class="ok">✓</td>` : `<td class="bad">✗</td>`;
    rows.push(`<tr>${x}<td>${target}</td><td>${predicted}</td>${mark}</tr>`);
  }
  document.getElementById("predictions").innerHTML = rows.join("");
}

function render(f) {
  f = Math.max(0, Math.min(F - 1, f));
  slider.value = f;
  const p = Number(probeSelect.value);
  label.textContent = `epoch ${epochs[f]} / ${meta.epochs}`;
  const weights = weightNames.map((n) => frame(n, f));
  const fills = [Array.from(probeX.subarray(p * D, (p + 1) * D), (x) => Math.tanh(x))];
  for (let l = 0; l < L; l++) {
    const n = sizes[l + 1], a = frame(`a:${l}`, f);
    fills.push(Array.from({ length: n }, (_, u) => fillOf(a[p * n + u], kinds[l])));
  }
  netView.update(weights, maxAbs, fills);
  if (hasGrid) {
    const [, G, , Kg] = A.grid.shape;
    drawBoundary(document.getElementById("boundary"), frame("grid", f), G, Kg, meta.extent, points, pointIndexOf(p));
  }
  renderLandscape(f);
  lossChart.setMarker(Math.max(epochs[f], 1));
  gradChart.setMarker(epochs[f]);
  renderHealth(f);
  renderPredictions(f);
  showTooltip();
  document.body.dataset.frame = f;
}

// --- playback -------------------------------------------------------------------------
let timer = null;
const playButton = document.getElementById("play");
function pause() {
  clearInterval(timer); timer = null; playButton.textContent = "▶ play";
}
function play() {
  if (Number(slider.value) >= F - 1) render(0);
  playButton.textContent = "❚❚ pause";
  timer = setInterval(() => {
    const f = Number(slider.value) + 1;
    render(f);
    if (f >= F - 1) pause();
  }, 60);
}
playButton.addEventListener("click", () => (timer ? pause() : play()));
document.getElementById("step-back").addEventListener("click", () => { pause(); render(Number(slider.value) - 1); });
document.getElementById("step-fwd").addEventListener("click", () => { pause(); render(Number(slider.value) + 1); });
slider.addEventListener("input", () => render(Number(slider.value)));
probeSelect.addEventListener("change", () => render(Number(slider.value)));
document.addEventListener("keydown", (e) => {
  // The arrows belong to a focused menu or slider (the slider moves itself and fires "input"); after a
  // button click the button keeps the focus, and the arrows still step. Space on a button clicks it.
  if (["SELECT", "INPUT"].includes(e.target.tagName) || (e.key === " " && e.target.tagName === "BUTTON")) return;
  if (e.key === "ArrowRight") { pause(); render(Number(slider.value) + 1); e.preventDefault(); }
  if (e.key === "ArrowLeft") { pause(); render(Number(slider.value) - 1); e.preventDefault(); }
  if (e.key === " ") { timer ? pause() : play(); e.preventDefault(); }
});

render(F - 1);
window.bpRenderedAt = performance.now();
document.body.dataset.ready = "1";
