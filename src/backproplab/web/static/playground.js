// The playground page: settings and buttons go to the server; frames come back as Server-Sent Events.
import { createChart, createNetworkView, decode, drawBoundary, fmt, healthNotes } from "./common.js";

const $ = (id) => document.getElementById(id);
let snap = null;      // the last snapshot: settings, data, sizes
let losses = [];      // the loss of every epoch so far
let netView = null;
let lossChart = null;
let running = false;

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await response.json().catch(() => ({ error: `server answered ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `server answered ${response.status}`);
  return data;
}

function fillForm(settings, choices) {
  for (const name of ["dataset", "activation", "optimizer"]) {
    const select = $(name);
    if (!select.options.length) choices[name].forEach((c) => select.add(new Option(c, c)));
    select.value = settings[name];
  }
  $("hidden").value = settings.hidden.join(", ");
  $("lr").value = settings.lr;
  $("batch_size").value = settings.batch_size;
  $("seed").value = settings.seed;
}

function fillOf(value, kind) {
  if (kind === "sigmoid" || kind.startsWith("output")) return 2 * value - 1;
  if (kind === "tanh") return value;
  return Math.tanh(value);
}

function layerName(l, L) {
  return l === L - 1 ? "output" : `hidden ${l + 1}`;
}

function onSnapshot(data) {
  snap = data;
  losses = data.losses.slice();
  fillForm(data.settings, data.choices);
  const tooltip = $("tooltip");
  netView = createNetworkView($("network"), data.sizes, (l, u, event) => {
    if (l === null) { tooltip.hidden = true; return; }
    const a = l === 0 ? null : snap.lastFrame.activations[l - 1];
    tooltip.innerHTML = l === 0 ? `<b>input ${u + 1}</b>` : `<b>${layerName(l - 1, snap.sizes.length - 1)}, unit ${u + 1}</b><br>` +
      `activation for input (${snap.probe_x[0].map(fmt).join(", ")}) = ${fmt(a[0][u])}`;
    const box = event.target.getBoundingClientRect(), panel = tooltip.parentElement.getBoundingClientRect();
    tooltip.style.left = `${box.right - panel.left + 8}px`;
    tooltip.style.top = `${box.top - panel.top - 8}px`;
    tooltip.hidden = false;
  });
  lossChart = createChart($("loss"), { logY: true, yLabel: "training loss" });
  $("verdict").textContent = "";
  onFrame({ ...data.frame, running: data.running, error: data.error, new_losses: [] });
}

function onFrame(frame) {
  if (!snap) return;
  snap.lastFrame = frame;
  losses.push(...frame.new_losses);
  running = frame.running;
  $("play").textContent = running ? "❚❚ pause" : "▶ play";
  if (frame.error) showError(frame.error);
  const sizes = snap.sizes, L = sizes.length - 1;
  const maxAbs = frame.weights.map((W) => W.reduce((m, w) => Math.max(m, Math.abs(w)), 0));
  const fills = [snap.probe_x[0].map((x) => Math.tanh(x)), ...frame.activations.map((a, l) => a[0].map((v) => fillOf(v, snap.kinds[l])))];
  netView.update(frame.weights, maxAbs, fills);
  const { data: grid } = decode(frame.grid);
  const G = frame.grid.shape[0];
  const points = snap.points.map((p, i) => ({ x: p[0], y: p[1], label: snap.labels[i] }));
  drawBoundary($("boundary"), grid, G, 1, snap.extent, points, -1);
  if (losses.length) {
    lossChart.setSeries([{ name: "loss", xs: losses.map((_, i) => i + 1), ys: losses, color: "#333" }]);
    lossChart.setMarker(losses.length);
  } else {
    lossChart.clear();  // after reset or apply: the old run's curve must go
  }
  const rows = [`<tr><th>layer</th><th>‖∂L/∂W‖</th><th>update / weight</th><th>saturated or dead</th><th>gradient</th></tr>`];
  const layers = [];
  for (let l = 0; l < L; l++) {
    const kind = snap.kinds[l].replace("output:", ""), h = frame.health[l];
    const share = h === null ? "–" : `${(100 * h).toFixed(0)} % ${kind === "relu" ? "dead" : "saturated"}`;
    rows.push(`<tr><td>${layerName(l, L)} (${kind})</td><td>${fmt(frame.grad_norm[l])}</td><td>${fmt(frame.update_ratio[l])}</td>` +
      `<td>${share}</td><td class="${frame.flags[l] ? "bad" : "ok"}">${["flows", "vanishing", "exploding"][frame.flags[l]]}</td></tr>`);
    layers.push({ name: layerName(l, L), flag: frame.flags[l], grad: frame.grad_norm[l], share: h === null ? NaN : h, kind });
  }
  const notes = healthNotes(layers);
  $("health").innerHTML = rows.join("");
  $("notes").innerHTML = notes.map((n) => `<p class="warn">${n}</p>`).join("") ||
    "<p>Gradients reach every layer: no layer's gradient is a thousand times weaker or stronger than another's.</p>";
  const pred = [`<tr><th>x1</th><th>x2</th><th>target</th><th>predicted</th><th></th></tr>`];
  snap.probe_x.forEach((x, i) => {
    const p = frame.outputs[i], t = snap.probe_y[i], ok = (p >= 0.5) === (t > 0.5);
    pred.push(`<tr><td>${fmt(x[0])}</td><td>${fmt(x[1])}</td><td>${t}</td><td>${p.toFixed(4)}</td><td class="${ok ? "ok" : "bad"}">${ok ? "✓" : "✗"}</td></tr>`);
  });
  $("predictions").innerHTML = pred.join("");
  $("status").textContent = `epoch ${frame.epoch} · loss ${fmt(frame.loss)}`;
  document.body.dataset.epoch = frame.epoch;
  document.body.dataset.loss = frame.loss;
  document.body.dataset.frames = Number(document.body.dataset.frames || 0) + 1;
}

async function act(action) {
  try {
    showError("");
    await post("/api/control", { action });
  } catch (e) {
    showError(e.message);
  }
}

$("settings").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData($("settings"));
  const body = Object.fromEntries(form.entries());
  try {
    showError("");
    await post("/api/settings", body);
  } catch (e) {
    showError(e.message);
  }
});
$("play").addEventListener("click", () => act(running ? "pause" : "play"));
$("step").addEventListener("click", () => act("step"));
$("reset").addEventListener("click", () => act("reset"));
$("gradcheck").addEventListener("click", async () => {
  const verdict = $("verdict");
  verdict.textContent = "checking…";
  verdict.className = "verdict";
  try {
    const r = await post("/api/gradcheck", {});
    verdict.textContent = `gradient check at epoch ${r.epoch}: ${r.passed ? "PASSED" : "FAILED"} — ` +
      `max relative error ${r.max_error.toExponential(2)}; each entry passes when ` +
      `|a − n| ≤ ${r.atol.toExponential(0)} + ${r.rtol.toExponential(0)} (|a| + |n|)`;
    verdict.className = `verdict ${r.passed ? "pass" : "fail"}`;
    verdict.title = r.text;
  } catch (e) {
    verdict.textContent = "";
    showError(e.message);
  }
});

// EventSource reconnects by itself after a dropped connection; each connection starts with a snapshot.
const events = new EventSource("/api/events");
events.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
events.addEventListener("frame", (e) => onFrame(JSON.parse(e.data)));
events.addEventListener("status", (e) => {
  const status = JSON.parse(e.data);
  running = status.running;
  $("play").textContent = running ? "❚❚ pause" : "▶ play";
  if (status.error) showError(status.error);
});
events.addEventListener("error", () => { $("status").textContent = "disconnected — retrying…"; });
