// Small bar charts in plain SVG (no chart library): a title, labelled axes with a few ticks, one
// bar per day or week with its figure as a tooltip; screen readers get the title and a summary.

const SVG_NS = "http://www.w3.org/2000/svg";

export interface ChartPoint {
  label: string; // the axis label ("Nov 3")
  value: number;
}

export interface BarChartOptions {
  id: string; // unique on the page (title and description ids)
  title: string;
  points: ChartPoint[];
  xLabel: string; // "Day" / "Week starting"
  yLabel: string; // "Texts", "Visits"
  width?: number;
  height?: number;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A "nice" top for the y axis (1, 2, 5 × 10^n) at or above the largest value. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

/** Which of n labels to print on the x axis: the first, the last, and a few evenly between. */
export function tickIndexes(n: number, most = 5): number[] {
  if (n <= most) return [...Array(n).keys()];
  const step = (n - 1) / (most - 1);
  return [...new Set([...Array(most).keys()].map((i) => Math.round(i * step)))];
}

export function barChart(o: BarChartOptions): SVGSVGElement {
  const width = o.width ?? 360;
  const height = o.height ?? 190;
  const m = { top: 12, right: 8, bottom: 42, left: 44 };
  const innerW = width - m.left - m.right;
  const innerH = height - m.top - m.bottom;
  const top = niceMax(Math.max(0, ...o.points.map((p) => p.value)));
  const total = o.points.reduce((sum, p) => sum + p.value, 0);
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-labelledby": `${o.id}-title ${o.id}-desc`,
    "data-testid": "chart",
    "data-total": total,
    preserveAspectRatio: "xMidYMid meet",
  });
  svg.append(el("title", { id: `${o.id}-title` }, o.title));
  const first = o.points[0]?.label ?? "";
  const last = o.points[o.points.length - 1]?.label ?? "";
  svg.append(el("desc", { id: `${o.id}-desc` }, `${total} in all, ${o.points.length} bars from ${first} to ${last}; the most in one bar is ${Math.max(0, ...o.points.map((p) => p.value))}.`));
  const plot = el("g", { transform: `translate(${m.left},${m.top})` });
  // y axis: 0, half and the top, with grid lines
  // whole numbers only: counts have no halves
  for (const t of top >= 2 && top % 2 === 0 ? [0, top / 2, top] : [0, top]) {
    const y = innerH - (t / top) * innerH;
    plot.append(el("line", { x1: 0, x2: innerW, y1: y, y2: y, class: t === 0 ? "chart-axis" : "chart-gridline" }));
    plot.append(el("text", { x: -6, y: y + 4, "text-anchor": "end", class: "chart-tick" }, String(t)));
  }
  const band = innerW / Math.max(o.points.length, 1);
  o.points.forEach((p, i) => {
    const h = (p.value / top) * innerH;
    const bar = el("rect", {
      x: (i * band + band * 0.15).toFixed(1),
      y: (innerH - h).toFixed(1),
      width: Math.max(band * 0.7, 1).toFixed(1),
      height: h.toFixed(1),
      class: "chart-bar",
      "data-value": p.value,
    });
    bar.append(el("title", {}, `${p.label}: ${p.value}`));
    plot.append(bar);
  });
  const ticks = tickIndexes(o.points.length);
  for (const i of ticks) {
    const p = o.points[i];
    if (!p) continue;
    // the first and last labels hug the plot's edges so they are never cut off
    const first = ticks.length > 1 && i === ticks[0];
    const last = ticks.length > 1 && i === ticks[ticks.length - 1];
    plot.append(el("text", { x: first ? 0 : last ? innerW : (i * band + band / 2).toFixed(1), y: innerH + 14,
                             "text-anchor": first ? "start" : last ? "end" : "middle", class: "chart-tick" }, p.label));
  }
  plot.append(el("text", { x: innerW / 2, y: innerH + 32, "text-anchor": "middle", class: "chart-axis-label" }, o.xLabel));
  svg.append(plot);
  svg.append(el("text", { x: 12, y: m.top + innerH / 2, "text-anchor": "middle", class: "chart-axis-label",
                          transform: `rotate(-90 12 ${m.top + innerH / 2})` }, o.yLabel));
  return svg;
}
