/**
 * CPU time and resident memory of a process from /proc (Linux), so MLSDM and the bare echo
 * server are measured the same way from outside.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux the harness targets). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / TICKS_PER_SECOND;
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * The process's RSS once it has settled: the lowest of samples taken every 500 ms over
 * `seconds` of idle. Right after a burst of calls V8 still holds the young-generation and
 * freed old-space pages it grew into; its memory reducer returns them a few seconds later (seen
 * here: 301 MB for 4 s after a fill, then 271 MB). Comparing two settled readings measures what
 * the store holds, not where the collector happened to be.
 */
export async function settledRssBytes(pid: number, seconds = 10): Promise<number> {
  let lowest = rssBytes(pid);
  for (let waited = 0; waited < seconds * 1000; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    lowest = Math.min(lowest, rssBytes(pid));
  }
  return lowest;
}
