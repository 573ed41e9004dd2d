/**
 * Running the real `mlsdm` command as a child process (node + tsx on src/cli/main.ts, or any
 * executable), with its own environment, and collecting its exit code and output. Asynchronous,
 * so a server started in-process by the same test keeps answering while the command runs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The command's entry point. */
export const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** What a finished command left. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** An environment without the caller's MLSDM_* variables, plus `env`. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("MLSDM_")) base[name] = value;
  }
  return { ...base, ...env };
}

/** Starts `mlsdm args...` (or `command` when given) without waiting for it. */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = {},
  command?: string,
): ChildProcessWithoutNullStreams {
  const [file, argv] =
    command === undefined ? [process.execPath, ["--import", "tsx", MAIN, ...args]] : [command, [...args]];
  return spawn(file, argv, { cwd: ROOT, env: cleanEnv(env), stdio: "pipe" });
}

/** Runs `mlsdm args...` to the end (killed after `timeoutMs`). */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { input?: string; timeoutMs?: number; command?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = startCli(args, env, options.command);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

interface LineLog {
  readonly lines: string[];
  consumed: number;
  partial: string;
  readonly waiters: Set<() => void>;
}
const logs = new WeakMap<ChildProcessWithoutNullStreams, LineLog>();

/** The stdout lines of `child`, collected from the first call on (nothing is lost between waits). */
function lineLog(child: ChildProcessWithoutNullStreams): LineLog {
  let log = logs.get(child);
  if (log === undefined) {
    const created: LineLog = { lines: [], consumed: 0, partial: "", waiters: new Set() };
    child.stdout.on("data", (chunk: Buffer) => {
      const parts = (created.partial + chunk.toString("utf8")).split("\n");
      created.partial = parts.pop() ?? "";
      created.lines.push(...parts);
      for (const wake of created.waiters) wake();
    });
    logs.set(child, created);
    log = created;
  }
  return log;
}

/**
 * Resolves with the next stdout line matching `pattern`, after the lines earlier calls
 * consumed (rejects after `timeoutMs`). Call it once right after starting the child.
 */
export function waitForLine(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<string> {
  const log = lineLog(child);
  return new Promise((resolve, reject) => {
    const check = () => {
      while (log.consumed < log.lines.length) {
        const line = log.lines[log.consumed++] ?? "";
        if (pattern.test(line)) {
          clearTimeout(timer);
          log.waiters.delete(check);
          resolve(line);
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      log.waiters.delete(check);
      reject(
        new Error(
          `no line matching ${pattern} within ${timeoutMs} ms; got: ${log.lines.join("\n").slice(-500)}`,
        ),
      );
    }, timeoutMs);
    log.waiters.add(check);
    check();
  });
}

/** Resolves with the exit code once `child` ends. */
export function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else
      child.on("close", (code) => {
        resolve(code);
      });
  });
}
