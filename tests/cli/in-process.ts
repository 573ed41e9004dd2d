/**
 * Running the `mlsdm` command in the test's own process: `run` from src/cli/program.ts (what
 * src/cli/main.ts calls) with the process's stdout and stderr captured and its MLSDM_*
 * variables replaced by `env` for the duration of the call. The child-process helpers in
 * support.ts test the real executable; these run the same code where coverage can see it.
 * Calls must not overlap (they swap process-wide state).
 */
import { run } from "../../src/cli/program.js";
import type { CliResult } from "./support.js";

type Write = typeof process.stdout.write;

/** Replaces the MLSDM_* variables by `env`; returns a function that puts the old ones back. */
export function withEnv(env: Record<string, string>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("MLSDM_")) {
      saved[name] = process.env[name];
      Reflect.deleteProperty(process.env, name);
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (!(name in saved)) saved[name] = process.env[name];
    process.env[name] = value;
  }
  return () => {
    // Also drops MLSDM_* variables the command set itself (`serve --config` sets MLSDM_CONFIG).
    for (const name of Object.keys(process.env)) {
      if (name.startsWith("MLSDM_") && !(name in saved)) Reflect.deleteProperty(process.env, name);
    }
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  };
}

/** Runs `mlsdm args...` in-process and collects its exit code and output (`onStdout` sees it grow). */
export async function runInProcess(
  args: readonly string[],
  env: Record<string, string> = {},
  onStdout: (text: string) => void = () => undefined,
): Promise<CliResult & { keepAlive: boolean }> {
  let stdout = "";
  let stderr = "";
  const realOut: Write = process.stdout.write.bind(process.stdout);
  const realErr: Write = process.stderr.write.bind(process.stderr);
  const capture =
    (append: (text: string) => void): Write =>
    (chunk: string | Uint8Array, ...rest: unknown[]) => {
      append(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const callback = rest.find((arg): arg is () => void => typeof arg === "function");
      callback?.();
      return true;
    };
  const restoreEnv = withEnv(env);
  process.stdout.write = capture((text) => {
    stdout += text;
    onStdout(stdout);
  });
  process.stderr.write = capture((text) => (stderr += text));
  try {
    const result = await run(["node", "mlsdm", ...args]);
    return { code: result.exitCode, stdout, stderr, keepAlive: result.keepAlive };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    restoreEnv();
  }
}
