// The playground as a notebook widget (anywidget). backproplab.notebook.playground puts this file after
// web/static/common.js (its exports stripped) and the page's style sheet as STYLE, so the widget draws the
// network, the decision boundary and the loss exactly as the web playground does. Everything lives in a
// shadow root: the style sheet reaches the widget and nothing else of the notebook.
// Python owns the training session: buttons send {action}; the kernel answers with the synced traits
// `snapshot` (data, sizes; after a reset) and `frame` (weights, grid, loss curve; after every advance).

function widgetFill(value, kind) {
  if (kind === "sigmoid" || kind.startsWith("output")) return 2 * value - 1;
  if (kind === "tanh") return value;
  return Math.tanh(value);
}

function render({ model, el }) {
  const root = el.attachShadow({ mode: "open" });
  root.innerHTML = `<style>${STYLE}</style>
    <div class="bp-playground" style="font: 13px/1.4 system-ui, sans-serif; color: #222">
      <section class="controls">
        <button data-action="toggle" type="button">▶ play</button>
        <button data-action="step" type="button" title="train one epoch">step</button>
        <button data-action="reset" type="button" title="new initial weights from the same seed">reset</button>
        <span class="epoch-label" data-role="status">epoch 0</span>
        <span data-role="error" style="color: #b2182b"></span>
      </section>
      <div class="panels" style="grid-template-columns: repeat(auto-fill, minmax(300px, 1fr))">
        <section class="panel"><h2>Network</h2><svg data-role="network" role="img" aria-label="network"></svg></section>
        <section class="panel"><h2>Decision boundary</h2>
          <canvas data-role="boundary" width="300" height="300" style="width: 260px; height: 260px; display: block; margin: auto"></canvas></section>
        <section class="panel"><h2>Loss</h2><svg data-role="loss" role="img" aria-label="loss curve"></svg></section>
      </div>
    </div>`;
  const part = (role) => root.querySelector(`[data-role="${role}"]`);
  const toggle = root.querySelector('[data-action="toggle"]');
  let netView = null, lossChart = null, snap = null;

  function onSnapshot() {
    snap = model.get("snapshot");
    if (!snap || !snap.sizes) return;
    netView = createNetworkView(part("network"), snap.sizes, null);
    lossChart = createChart(part("loss"), { logY: true, yLabel: "training loss" });
  }

  function onFrame() {
    const frame = model.get("frame");
    if (!snap || !frame || !frame.weights) return;
    const maxAbs = frame.weights.map((W) => W.reduce((m, w) => Math.max(m, Math.abs(w)), 0));
    const fills = [snap.probe_x[0].map((x) => Math.tanh(x)),
      ...frame.activations.map((a, l) => a[0].map((v) => widgetFill(v, snap.kinds[l])))];
    netView.update(frame.weights, maxAbs, fills);
    const { data: grid } = decode(frame.grid);
    const points = snap.points.map((p, i) => ({ x: p[0], y: p[1], label: snap.labels[i] }));
    drawBoundary(part("boundary"), grid, frame.grid.shape[0], 1, snap.extent, points, -1);
    const curve = frame.curve;
    if (curve.xs.length) {
      lossChart.setSeries([{ name: "loss", xs: curve.xs, ys: curve.ys, color: "#333" }]);
      lossChart.setMarker(frame.epoch);
    } else {
      lossChart.clear();
    }
    part("status").textContent = `epoch ${frame.epoch} · loss ${fmt(frame.loss)}`;
    el.dataset.epoch = frame.epoch;
  }

  function onStatus() {
    toggle.textContent = model.get("running") ? "❚❚ pause" : "▶ play";
    part("error").textContent = model.get("error");
  }

  root.querySelectorAll("button[data-action]").forEach((button) => {
    button.addEventListener("click", () => {
      const action = button.dataset.action;
      model.send({ action: action === "toggle" ? (model.get("running") ? "pause" : "play") : action });
    });
  });
  model.on("change:snapshot", () => { onSnapshot(); onFrame(); });
  model.on("change:frame", onFrame);
  model.on("change:running", onStatus);
  model.on("change:error", onStatus);
  onSnapshot();
  onFrame();
  onStatus();
}

export default { render };
