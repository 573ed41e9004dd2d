/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and lists the functions with the most self time,
 * so a report can say where the time goes without opening a profiler.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
}

/**
 * The `top` functions by self time, as "  12.3 %  name  file:line" lines, in percent of the busy
 * samples ("(idle)" excluded; it is reported as the first line).
 */
export function summariseProfile(file: string, top: number): string[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${path.basename(url.replace(/^file:\/\//, ""))}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"}  ${where}`.trim();
    byFrame.set(key, (byFrame.get(key) ?? 0) + hits);
  }
  const idle = byFrame.get("(idle)") ?? 0;
  byFrame.delete("(idle)");
  const busy = Math.max(1, total - idle);
  return [
    `idle ${((idle / Math.max(1, total)) * 100).toFixed(1)} % of the profile; below: % of busy samples`,
    ...[...byFrame.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, hits]) => `${((hits / busy) * 100).toFixed(1).padStart(5)} %  ${key}`),
  ];
}

/** Where a frame's code lives: the npm package, or the project directory (src/rpc, ...), or a V8 bucket. */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const file = url.replace(/^file:\/\//, "");
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg?.[1]) return pkg[1];
  if (file.startsWith("node:")) return file;
  const src = /\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(file);
  return src?.[1] ?? path.basename(file);
}

/** Self time per package or source directory, as "  12.3 %  name" lines (of busy samples). */
export function summariseByModule(file: string, top: number): string[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
  const byModule = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (node.callFrame.functionName === "(idle)") continue;
    busy += hits;
    const key = moduleOf(node.callFrame.url, node.callFrame.functionName);
    byModule.set(key, (byModule.get(key) ?? 0) + hits);
  }
  return [...byModule.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, hits]) => `${((hits / Math.max(1, busy)) * 100).toFixed(1).padStart(5)} %  ${key}`);
}
