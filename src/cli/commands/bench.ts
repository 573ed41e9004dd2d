/**
 * `mlsdm bench`: runs the package's `bench:*` npm scripts one after the other, with a progress
 * bar across them, and reports each script's exit status and duration (exit 6 when one fails).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { contextOf, type CommandContext, type RunState } from "../context.js";
import { CliError, EXIT, usageError } from "../exit-codes.js";
import { print, table } from "../output.js";
import { startProgress } from "../progress.js";

interface Result {
  readonly script: string;
  readonly exitCode: number;
  readonly durationMs: number;
}

/** The package root: the nearest directory above this file with a package.json. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw usageError("cannot find the package directory; pass --root");
    dir = parent;
  }
  return dir;
}

function benchScripts(root: string): string[] {
  let scripts: Record<string, string>;
  try {
    scripts =
      (
        JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
          scripts?: Record<string, string>;
        }
      ).scripts ?? {};
  } catch (error) {
    throw usageError(`cannot read ${path.join(root, "package.json")}: ${String(error)}`);
  }
  return Object.keys(scripts).filter((name) => name.startsWith("bench:"));
}

function runScript(
  context: CommandContext,
  root: string,
  script: string,
  buffer: boolean,
): Promise<[number, string]> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", script], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: process.env,
    });
    let captured = "";
    const forward = (chunk: Buffer, toStdout: boolean) => {
      if (buffer) captured += chunk.toString("utf8");
      else if (toStdout && !context.output.json) context.output.out(chunk.toString("utf8"));
      else context.output.err(chunk.toString("utf8"));
    };
    child.stdout.on("data", (chunk: Buffer) => {
      forward(chunk, true);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      forward(chunk, false);
    });
    child.on("error", (error) => {
      resolve([127, `${captured}${String(error)}\n`]);
    });
    child.on("close", (code) => {
      resolve([code ?? 1, captured]);
    });
  });
}

/** Adds `bench` to `program`. */
export function addBenchCommand(program: Command, run: RunState): void {
  program
    .command("bench")
    .description("run the benchmarks (the bench:* npm scripts) with a progress bar")
    .option("--only <names>", "comma-separated scripts to run, e.g. core,engine")
    .option("--list", "list the benchmark scripts and exit")
    .option("--root <dir>", "the package directory (default: the one this command belongs to)")
    .action(async (options: { only?: string; list?: boolean; root?: string }, command: Command) => {
      const context = contextOf(command, run);
      const root = options.root ?? packageRoot();
      const available = benchScripts(root);
      if (options.list) {
        print(context.output, { scripts: available }, () => available.map((name) => `${name}\n`).join(""));
        return;
      }
      let scripts = available;
      if (options.only !== undefined) {
        const wanted = options.only
          .split(",")
          .map((name) => (name.startsWith("bench:") ? name : `bench:${name.trim()}`));
        const unknown = wanted.filter((name) => !available.includes(name));
        if (unknown.length > 0)
          throw usageError(`no such benchmark: ${unknown.join(", ")} (have ${available.join(", ")})`);
        scripts = wanted;
      }
      if (scripts.length === 0) throw usageError(`no bench:* scripts in ${path.join(root, "package.json")}`);
      const buffer = context.progressMode === "bar";
      const progress = startProgress(context.progressMode, "bench", scripts.length, "benchmarks");
      const results: Result[] = [];
      const outputs: string[] = [];
      for (const [index, script] of scripts.entries()) {
        progress.update(index, script);
        const startedAt = Date.now();
        const [exitCode, captured] = await runScript(context, root, script, buffer);
        results.push({ script, exitCode, durationMs: Date.now() - startedAt });
        if (buffer) outputs.push(`── ${script} ──\n${captured}`);
      }
      progress.update(scripts.length, "done");
      progress.stop();
      for (const text of outputs) context.output.out(text);
      print(context.output, { results }, () =>
        table(
          ["SCRIPT", "RESULT", "SECONDS"],
          results.map((r) => [
            r.script,
            r.exitCode === 0 ? "ok" : `failed (${r.exitCode})`,
            (r.durationMs / 1000).toFixed(1),
          ]),
        ),
      );
      const failed = results.filter((r) => r.exitCode !== 0);
      if (failed.length > 0) {
        throw new CliError(`benchmark failed: ${failed.map((r) => r.script).join(", ")}`, EXIT.CHECK_FAILED);
      }
    });
}
