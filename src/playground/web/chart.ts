/**
 * The live state chart: a hand-drawn SVG of the last samples of GetState. The upper panel holds
 * the values on a 0..1 scale (moral threshold, moral EMA, PELM fill); the lower one the synaptic
 * norms L1, L2, L3 on a scale that fits them. Emergency periods are shaded. Colours come from
 * style.css classes (the page's CSP allows no inline styles).
 */
const SVG = "http://www.w3.org/2000/svg";

/** One GetState reading. */
export interface Sample {
  readonly threshold: number;
  readonly ema: number;
  /** pelm_used / pelm_capacity, 0..1. */
  readonly pelmFill: number;
  readonly l1: number;
  readonly l2: number;
  readonly l3: number;
  readonly emergency: boolean;
}

type SeriesKey = "threshold" | "ema" | "pelmFill" | "l1" | "l2" | "l3";

const UPPER: readonly SeriesKey[] = ["threshold", "ema", "pelmFill"];
const LOWER: readonly SeriesKey[] = ["l1", "l2", "l3"];

const WIDTH = 600;
const PANEL = 110;
const GAP = 24;
const LEFT = 36;

function element<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** A chart drawn into `svg`, keeping the last `capacity` samples. */
export class StateChart {
  private readonly samples: Sample[] = [];

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly capacity = 120,
  ) {
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${PANEL * 2 + GAP + 8}`);
    svg.setAttribute("role", "img");
    this.draw();
  }

  /** Adds a reading and redraws. */
  push(sample: Sample): void {
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.shift();
    this.draw();
  }

  /** Until the chart is full the samples spread over the whole width; then it scrolls. */
  private x(index: number): number {
    const span = Math.max(10, this.samples.length) - 1;
    return LEFT + ((WIDTH - LEFT - 4) * index) / span;
  }

  private panel(top: number, keys: readonly SeriesKey[], max: number, label: string): SVGGElement {
    const group = element("g", { class: "panel" });
    group.append(
      element("rect", { x: LEFT, y: top, width: WIDTH - LEFT - 4, height: PANEL, class: "frame" }),
    );
    for (const fraction of [0, 0.5, 1]) {
      const y = top + PANEL - fraction * PANEL;
      group.append(element("line", { x1: LEFT, x2: WIDTH - 4, y1: y, y2: y, class: "grid" }));
      const text = element("text", { x: LEFT - 4, y: y + 4, class: "tick" });
      text.textContent = (fraction * max).toFixed(max < 10 ? 2 : 0);
      group.append(text);
    }
    const title = element("text", { x: LEFT + 6, y: top + 14, class: "panel-title" });
    title.textContent = label;
    group.append(title);
    this.samples.forEach((sample, index) => {
      if (!sample.emergency) return;
      const x = this.x(index);
      const width = Math.max(2, this.x(1) - this.x(0));
      group.append(element("rect", { x: x - width / 2, y: top, width, height: PANEL, class: "emergency" }));
    });
    for (const key of keys) {
      const points = this.samples
        .map((sample, index) => {
          const value = Math.min(max, Math.max(0, sample[key]));
          return `${this.x(index).toFixed(1)},${(top + PANEL - (value / max) * PANEL).toFixed(1)}`;
        })
        .join(" ");
      group.append(element("polyline", { points, class: `series series-${key}`, "data-series": key }));
    }
    return group;
  }

  private draw(): void {
    const normMax = Math.max(0.5, ...this.samples.flatMap((s) => [s.l1, s.l2, s.l3])) * 1.1;
    this.svg.replaceChildren(
      this.panel(4, UPPER, 1, "moral threshold · moral EMA · PELM fill"),
      this.panel(4 + PANEL + GAP, LOWER, normMax, "synaptic norms L1 · L2 · L3"),
    );
    this.svg.dataset.samples = String(this.samples.length);
  }
}
