// SVG charts built from elements and attributes (no inline style, no library).
const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

const W = 560, H = 180, L = 10, B = 24, T = 30;
const STEP = { raw: 0, hour: 3600, day: 86400 };

function day(t) {
  return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
}

// points: [{t: bucket start, v}] over the period [p.from, p.to) in buckets of p.step, each a bar
// at its place in time (an empty bucket is no bar); the tallest bucket's value labelled.
export function timeChart(points, p, label, unit) {
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": label });
  svg.append(s("text", { x: L, y: 12 }, label));
  const span = Math.max(p.to - p.from, 1);
  const x = t => L + ((t - p.from) / span) * (W - 2 * L);
  svg.append(s("line", { class: "axis", x1: L, y1: H - B, x2: W - L, y2: H - B }));
  svg.append(s("text", { x: L, y: H - 6 }, day(p.from)));
  svg.append(s("text", { x: W - L - 100, y: H - 6 }, day(p.to)));
  if (!points.length) {
    svg.append(s("text", { x: W / 2 - 60, y: H / 2 }, "no data for this period"));
    return svg;
  }
  const vmax = Math.max(...points.map(q => q.v)) || 1;
  svg.append(s("text", { x: L, y: T - 6 }, `highest: ${+vmax.toPrecision(3)} ${unit}`));
  const w = Math.max(((STEP[p.step] || 300) / span) * (W - 2 * L) - 1, 2);
  for (const q of points) {
    const h = (q.v / vmax) * (H - B - T);
    const bar = s("rect", { class: "bar", x: x(q.t).toFixed(1), y: (H - B - h).toFixed(1), width: w.toFixed(1), height: h.toFixed(1) });
    bar.append(s("title", {}, `${day(q.t)}: ${+q.v.toPrecision(4)} ${unit}`));
    svg.append(bar);
  }
  return svg;
}

// bars: [{label, v, max}]: each bar's share of its max (a use in percent).
export function barChart(bars, label, cls = "") {
  const h = 18 + bars.length * 22 + 8;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${h}`, width: W, height: h, role: "img", "aria-label": label });
  svg.append(s("text", { x: 4, y: 12 }, label));
  bars.forEach((b, i) => {
    const pct = b.max ? Math.min(100, (100 * b.v) / b.max) : 0;
    const yy = 18 + i * 22;
    svg.append(s("text", { x: 4, y: yy + 14 }, b.label));
    svg.append(s("rect", { class: "track", x: 140, y: yy + 3, width: W - 220, height: 14 }));
    svg.append(s("rect", { class: `bar ${cls}`, x: 140, y: yy + 3, width: ((W - 220) * pct) / 100, height: 14 }));
    svg.append(s("text", { x: W - 74, y: yy + 14 }, `${pct.toFixed(0)} %`));
  });
  return svg;
}

// Usage history rows summed per bucket start: [{t, v}] of f(row).
export function perBucket(rows, f) {
  const m = new Map();
  for (const r of rows) m.set(r.t, (m.get(r.t) || 0) + f(r));
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, v }));
}
