// Drawing shared by the explorer and the playground: the network, the decision
// boundary and line charts. Plain SVG and canvas, no libraries.

export const SVG_NS = "http://www.w3.org/2000/svg";
export const POSITIVE = [214, 96, 77];   // warm: positive weights, class 1
export const NEGATIVE = [67, 147, 195];  // cool: negative weights, class 0
export const CLASS_COLORS = [[67, 147, 195], [214, 96, 77], [90, 174, 97], [153, 112, 171], [230, 171, 2], [102, 102, 102]];

export function svgEl(tag, attrs, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// Arrays arrive packed as {shape, dtype, b64}: little-endian bytes in base64.
export function decode(spec) {
  const bytes = Uint8Array.from(atob(spec.b64), (c) => c.charCodeAt(0));
  const Type = { f4: Float32Array, u1: Uint8Array, i1: Int8Array }[spec.dtype];
  if (!Type) throw new Error(`unknown dtype ${spec.dtype}`);
  return { shape: spec.shape, data: new Type(bytes.buffer) };
}

// Four significant digits, with exponents for tiny and huge values.
export function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (x === 0) return "0";
  const ax = Math.abs(x);
  return ax >= 1e4 || ax < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
}

export function mix(a, b, t) {
  return a.map((v, i) => Math.round(v + (b[i] - v) * t));
}

// Diverging colour for v in [-1, 1]: cool - white - warm.
export function diverging(v) {
  const t = Math.max(-1, Math.min(1, v));
  return t >= 0 ? mix([247, 247, 247], POSITIVE, t) : mix([247, 247, 247], NEGATIVE, -t);
}

export function rgb(c) {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// --- the network ---------------------------------------------------------------------
// sizes: units per layer, input first. update(weights, maxAbs, fills) recolours in place:
// weights[l] is the (fan_in x fan_out) row-major matrix of Dense layer l.
export function createNetworkView(svg, sizes, onHover) {
  clear(svg);
  const width = 520, height = 300, margin = 34;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const maxUnits = extent(sizes)[1];
  const radius = Math.max(5, Math.min(14, (height - 2 * margin) / (2.6 * maxUnits)));
  const pos = sizes.map((n, l) => {
    const x = margin + (l * (width - 2 * margin)) / (sizes.length - 1);
    const gap = Math.min(3 * radius, (height - 2 * margin) / Math.max(n - 1, 1));
    return Array.from({ length: n }, (_, u) => [x, height / 2 + (u - (n - 1) / 2) * gap]);
  });
  const edgeGroup = svgEl("g", { class: "edges" }, svg);
  const edges = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const layer = [];
    for (let i = 0; i < sizes[l]; i++) {
      for (let j = 0; j < sizes[l + 1]; j++) {
        const [x1, y1] = pos[l][i], [x2, y2] = pos[l + 1][j];
        layer.push(svgEl("line", { x1, y1, x2, y2, class: "edge", "data-layer": l, "data-from": i, "data-to": j }, edgeGroup));
      }
    }
    edges.push(layer);
  }
  const nodes = [];
  sizes.forEach((n, l) => {
    const column = [];
    for (let u = 0; u < n; u++) {
      const [cx, cy] = pos[l][u];
      const c = svgEl("circle", { cx, cy, r: radius, class: "unit", "data-layer": l, "data-unit": u, tabindex: 0 }, svg);
      if (onHover) {
        c.addEventListener("mouseenter", (e) => onHover(l, u, e));
        c.addEventListener("focus", (e) => onHover(l, u, e));
        c.addEventListener("mouseleave", () => onHover(null));
        c.addEventListener("blur", () => onHover(null));
      }
      column.push(c);
    }
    nodes.push(column);
  });
  const short = sizes.length > 5;  // long names would overlap
  const labels = [short ? "in" : "input", ...sizes.slice(1, -1).map((_, i) => (short ? `h${i + 1}` : `hidden ${i + 1}`)),
    short ? "out" : "output"];
  labels.forEach((text, l) => {
    svgEl("text", { x: pos[l][0][0], y: height - 6, class: "layer-label", "text-anchor": "middle" }, svg).textContent = text;
  });
  return {
    update(weights, maxAbs, fills) {
      weights.forEach((W, l) => {
        const m = maxAbs[l] || 1;
        edges[l].forEach((line, k) => {
          const w = W[k];
          line.setAttribute("stroke", rgb(w >= 0 ? POSITIVE : NEGATIVE));
          line.setAttribute("stroke-width", (0.3 + 7 * Math.abs(w) / m).toFixed(2));
          line.dataset.weight = w;
        });
      });
      if (fills) nodes.forEach((column, l) => column.forEach((c, u) => c.setAttribute("fill", rgb(diverging(fills[l][u])))));
    },
    nodes,
  };
}

// --- the decision boundary -----------------------------------------------------------
// grid: Uint8Array (G * G * K), row 0 at the bottom (y_min); points: [{x, y, label}].
export function drawBoundary(canvas, grid, G, K, extent, points, highlight) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const image = new ImageData(G, G);
  for (let r = 0; r < G; r++) {
    for (let c = 0; c < G; c++) {
      const src = (r * G + c) * K, dst = ((G - 1 - r) * G + c) * 4;
      let color;
      if (K === 1) {
        color = diverging((2 * grid[src]) / 255 - 1);
      } else {
        let best = 0;
        for (let k = 1; k < K; k++) if (grid[src + k] > grid[src + best]) best = k;
        color = mix([247, 247, 247], CLASS_COLORS[best % CLASS_COLORS.length], Math.max(0, (grid[src + best] / 255 - 1 / K) * K / (K - 1)));
      }
      image.data.set([color[0], color[1], color[2], 255], dst);
    }
  }
  const off = document.createElement("canvas");
  off.width = G; off.height = G;
  off.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, W, H);
  ctx.drawImage(off, 0, 0, W, H);
  const [x0, x1, y0, y1] = extent;
  const px = (x) => ((x - x0) / (x1 - x0)) * W, py = (y) => H - ((y - y0) / (y1 - y0)) * H;
  points.forEach((p, i) => {
    ctx.beginPath();
    const dense = points.length > 50;
    ctx.arc(px(p.x), py(p.y), i === highlight ? 7 : dense ? 3.5 : 5, 0, 2 * Math.PI);
    // Darker than the background's shades and ringed in white, so a point shows on its own class's colour.
    ctx.fillStyle = rgb(CLASS_COLORS[p.label % CLASS_COLORS.length].map((v) => Math.round(0.75 * v)));
    ctx.fill();
    ctx.lineWidth = i === highlight ? 3 : dense ? 0.8 : 1.5;
    ctx.strokeStyle = i === highlight ? "#000" : "#fff";
    ctx.stroke();
  });
}

// --- line charts ---------------------------------------------------------------------
function niceTicks(lo, hi, n) {
  const step0 = (hi - lo) / Math.max(n, 1);
  const mag = Math.pow(10, Math.floor(Math.log10(step0 || 1)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) ticks.push(t);
  return ticks;
}

// [min, max] of an array by a loop: Math.min(...a) passes every element as an argument and overflows
// the call stack for long runs (about 125,000 epochs in Chromium).
export function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

// A chart with axes, series and a vertical marker. logY: log10 scale (non-positive values are skipped).
export function createChart(svg, { logY = false, xLabel = "epoch", yLabel = "" } = {}) {
  const width = 520, height = 220, left = 58, right = 12, top = 12, bottom = 34;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  let xr = [0, 1], yr = [0, 1];
  const X = (x) => left + ((x - xr[0]) / (xr[1] - xr[0] || 1)) * (width - left - right);
  const Y = (y) => {
    const v = logY ? Math.log10(y) : y;
    return top + (1 - (v - yr[0]) / (yr[1] - yr[0] || 1)) * (height - top - bottom);
  };
  const chart = {
    setSeries(series) {
      clear(svg);
      const xs = series.flatMap((s) => Array.from(s.xs));
      const ys = series.flatMap((s) => Array.from(s.ys)).filter((y) => Number.isFinite(y) && (!logY || y > 0));
      xr = extent(xs);
      if (!ys.length) ys.push(logY ? 1 : 0);
      const [yMin, yMax] = extent(ys);
      yr = logY ? [Math.floor(Math.log10(yMin)), Math.ceil(Math.log10(yMax))] : [Math.min(0, yMin), yMax];
      if (yr[0] === yr[1]) yr[1] = yr[0] + 1;
      const axes = svgEl("g", { class: "axes" }, svg);
      for (const t of niceTicks(xr[0], xr[1], 6)) {
        svgEl("line", { x1: X(t), x2: X(t), y1: top, y2: height - bottom, class: "grid" }, axes);
        svgEl("text", { x: X(t), y: height - bottom + 14, "text-anchor": "middle" }, axes).textContent = fmt(t);
      }
      const decades = Array.from({ length: yr[1] - yr[0] + 1 }, (_, i) => Math.pow(10, yr[0] + i));
      const yTicks = !logY ? niceTicks(yr[0], yr[1], 4)
        : yr[1] - yr[0] > 1 ? decades : decades.flatMap((d) => [d, 2 * d, 5 * d]).filter((t) => t <= Math.pow(10, yr[1]));
      const stride = Math.ceil(yTicks.length / 6);
      yTicks.forEach((t, i) => {
        if (i % stride) return;
        svgEl("line", { x1: left, x2: width - right, y1: Y(t), y2: Y(t), class: "grid" }, axes);
        const decade = Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
        svgEl("text", { x: left - 5, y: Y(t) + 4, "text-anchor": "end" }, axes).textContent =
          logY && decade ? `1e${Math.round(Math.log10(t))}` : fmt(t);
      });
      svgEl("text", { x: (left + width - right) / 2, y: height - 4, "text-anchor": "middle", class: "axis-label" }, axes).textContent = xLabel;
      svgEl("text", { x: 12, y: top + (height - top - bottom) / 2, "text-anchor": "middle", class: "axis-label",
        transform: `rotate(-90 12 ${top + (height - top - bottom) / 2})` }, axes).textContent = yLabel;
      series.forEach((s) => {
        let d = "";
        for (let i = 0; i < s.xs.length; i++) {
          const y = s.ys[i];
          if (!Number.isFinite(y) || (logY && y <= 0)) continue;
          d += `${d ? "L" : "M"}${X(s.xs[i]).toFixed(1)},${Y(y).toFixed(1)}`;
        }
        svgEl("path", { d, class: "series", stroke: s.color || "#333" }, svg);
      });
      if (series.length > 1) {
        series.forEach((s, i) => {
          const x = left + 10 + (i % 5) * 86, y = top + 2 + Math.floor(i / 5) * 12;
          svgEl("rect", { x, y, width: 12, height: 4, fill: s.color }, svg);
          svgEl("text", { x: x + 16, y: y + 6, class: "legend" }, svg).textContent = s.name;
        });
      }
      chart.marker = svgEl("line", { class: "marker", y1: top, y2: height - bottom, x1: left, x2: left }, svg);
    },
    clear() {  // no series: an empty plot, no marker
      clear(svg);
      chart.marker = null;
    },
    setMarker(x) {
      if (!chart.marker) return;
      chart.marker.setAttribute("x1", X(x).toFixed(1));
      chart.marker.setAttribute("x2", X(x).toFixed(1));
      chart.marker.dataset.epoch = x;
    },
    marker: null,
  };
  return chart;
}

export const LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];

const SLOPE_NOTES = {
  sigmoid: " On its way back the signal is multiplied by each sigmoid's slope a(1 − a), at most 0.25, so it shrinks " +
    "layer by layer; saturated units (slope near 0) shrink it further. Fewer layers, tanh or ReLU help.",
  tanh: " On its way back the signal is multiplied by each tanh's slope 1 − a², at most 1 and near 0 for saturated " +
    "units.",
};

// Plain-language notes on the gradient flow of one frame. layers: [{name, flag, grad, share, kind}],
// flag 0 ok, 1 vanishing, 2 exploding; share: saturated (sigmoid, tanh) or dead (ReLU) share, NaN if none.
export function healthNotes(layers) {
  const notes = [];
  const strongest = extent(layers.map((l) => l.grad))[1];
  const vanishing = layers.filter((l) => l.flag === 1);
  if (vanishing.length) {
    const which = vanishing.map((l) => `${l.name} (${fmt(strongest / Math.max(l.grad, 1e-300))}× weaker)`).join(", ");
    notes.push(`A vanishing gradient: ${which} than the strongest layer's, so ${vanishing.length > 1 ? "their" : "its"} ` +
      `weights barely move.` + (SLOPE_NOTES[vanishing[0].kind] || ""));
  }
  const exploding = layers.filter((l) => l.flag === 2);
  if (exploding.length) {
    notes.push(`An exploding gradient in ${exploding.map((l) => l.name).join(", ")}: its norm is above 1000, or one epoch ` +
      `changed the weights by more than their own size. Lower the learning rate or clip the gradients.`);
  }
  for (const l of layers) {
    if (!(l.share >= 0.5)) continue;
    notes.push(l.kind === "relu"
      ? `${l.name}: ${Math.round(100 * l.share)} % of its ReLU units are dead (zero on every input) and pass no gradient back.`
      : `${l.name}: ${Math.round(100 * l.share)} % of its ${l.kind} activations are saturated, where the slope is nearly 0.`);
  }
  return notes;
}
