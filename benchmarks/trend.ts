/**
 * `npm run bench:trend`: the trend chart of the load results (PERF-002). Reads every
 * benchmarks/results/load-*.json and gate-*.json (plus any directory given as arguments, e.g.
 * downloaded workflow artifacts) and draws each row's throughput ratio to the bare echo over time
 * as benchmarks/results/trend.svg (one line per row, dots per run). No dependencies.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface Point {
  readonly date: number;
  readonly ratio: number;
}
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dirs = [path.join(ROOT, "benchmarks/results"), ...process.argv.slice(2)];
const series = new Map<string, Point[]>();
for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    if (!/(^|\/)(load|gate)-.*\.json$/.test(name)) continue;
    try {
      const run = JSON.parse(readFileSync(path.join(dir, name), "utf8")) as {
        date: string;
        rows: { id: string; throughputRatio: number }[];
        retrieval?: { speedup: number };
      };
      const date = Date.parse(run.date);
      for (const row of run.rows) {
        const points = series.get(row.id) ?? [];
        points.push({ date, ratio: row.throughputRatio });
        series.set(row.id, points);
      }
    } catch {
      process.stderr.write(`skipped ${name}: not a results file\n`);
    }
  }
}
const W = 900;
const H = 420;
const M = { left: 60, right: 260, top: 30, bottom: 40 };
const all = [...series.values()].flat();
const minX = Math.min(...all.map((p) => p.date));
const maxX = Math.max(...all.map((p) => p.date), minX + 1);
const maxY = Math.max(0.1, ...all.map((p) => p.ratio)) * 1.1;
const x = (d: number): number => M.left + ((d - minX) / (maxX - minX)) * (W - M.left - M.right);
const y = (r: number): number => H - M.bottom - (r / maxY) * (H - M.top - M.bottom);
const colours = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];
const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
  `<text x="${M.left}" y="18" font-size="13">MLSDM throughput ÷ bare grpc-js echo (same run), per row</text>`,
  `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#000"/>`,
  `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#000"/>`,
];
for (let i = 0; i <= 5; i++) {
  const r = (maxY / 5) * i;
  parts.push(`<text x="${M.left - 6}" y="${y(r) + 4}" text-anchor="end">${r.toFixed(2)}</text>`);
  parts.push(`<line x1="${M.left}" y1="${y(r)}" x2="${W - M.right}" y2="${y(r)}" stroke="#eee"/>`);
}
parts.push(`<text x="${M.left}" y="${H - 10}">${new Date(minX).toISOString().slice(0, 10)}</text>`);
parts.push(
  `<text x="${W - M.right}" y="${H - 10}" text-anchor="end">${new Date(maxX).toISOString().slice(0, 10)}</text>`,
);
[...series.entries()].forEach(([id, points], i) => {
  const colour = colours[i % colours.length] ?? "#000";
  const sorted = [...points].sort((a, b) => a.date - b.date);
  parts.push(
    `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${sorted.map((p) => `${x(p.date).toFixed(1)},${y(p.ratio).toFixed(1)}`).join(" ")}"/>`,
  );
  for (const p of sorted)
    parts.push(
      `<circle cx="${x(p.date).toFixed(1)}" cy="${y(p.ratio).toFixed(1)}" r="2.5" fill="${colour}"/>`,
    );
  parts.push(`<text x="${W - M.right + 10}" y="${M.top + 14 * i}" fill="${colour}">${escape(id)}</text>`);
});
parts.push("</svg>");
const out = path.join(ROOT, "benchmarks/results/trend.svg");
writeFileSync(out, `${parts.join("\n")}\n`);
process.stdout.write(
  `${series.size} row(s), ${all.length} point(s) → ${path.relative(process.cwd(), out)}\n`,
);
