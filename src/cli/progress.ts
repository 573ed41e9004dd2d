/**
 * Progress for long transfers and benchmark runs: a cli-progress bar on a terminal (stderr),
 * plain lines every 25 % otherwise, nothing with `--json` or `--progress none`.
 */
import { SingleBar, Presets } from "cli-progress";

/** How progress is shown. */
export type ProgressMode = "auto" | "bar" | "plain" | "none";

/** A running progress display. */
export interface Progress {
  update(value: number, label?: string): void;
  stop(): void;
}

/** The mode `auto` resolves to: a bar on a terminal, plain lines otherwise, nothing for JSON. */
export function resolveProgressMode(mode: ProgressMode, json: boolean): Exclude<ProgressMode, "auto"> {
  if (mode !== "auto") return mode;
  if (json) return "none";
  return process.stderr.isTTY ? "bar" : "plain";
}

/** Starts a progress display for `total` units named `unit` (e.g. "bytes", "benchmarks"). */
export function startProgress(
  mode: Exclude<ProgressMode, "auto">,
  title: string,
  total: number,
  unit: string,
): Progress {
  if (mode === "none") return { update: () => undefined, stop: () => undefined };
  if (mode === "plain") {
    let lastQuarter = -1;
    const line = (value: number, label?: string) => {
      const percent = total === 0 ? 100 : Math.floor((value / total) * 100);
      process.stderr.write(`${title}: ${value}/${total} ${unit} (${percent}%)${label ? ` ${label}` : ""}\n`);
    };
    return {
      update(value, label) {
        const quarter = total === 0 ? 4 : Math.floor((value / total) * 4);
        if (quarter !== lastQuarter || label !== undefined) {
          lastQuarter = quarter;
          line(value, label);
        }
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar(
    {
      format: `${title} [{bar}] {percentage}% | {value}/{total} ${unit} {label}`,
      stream: process.stderr,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 200,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { label: "" });
  return {
    update(value, label) {
      bar.update(value, { label: label ?? "" });
    },
    stop() {
      bar.stop();
    },
  };
}
