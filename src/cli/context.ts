/**
 * What a command's action needs: the global options, the output, a client for the server, and
 * a place to put a non-zero exit code that is not an error (e.g. `health` on NOT_SERVING).
 */
import { InvalidArgumentError, type Command } from "commander";
import type { MlsdmClient } from "../client/index.js";
import { connect, type GlobalOptions } from "./connection.js";
import { processOutput, type Output } from "./output.js";
import { resolveProgressMode } from "./progress.js";

/** The outcome the program reports once the action returns. */
export interface RunState {
  exitCode: number;
}

/** The environment a command runs in. */
export interface CommandContext {
  readonly options: GlobalOptions;
  readonly output: Output;
  readonly progressMode: ReturnType<typeof resolveProgressMode>;
  readonly run: RunState;
}

/** The context of `command` (its options merged with the root's). */
export function contextOf(command: Command, run: RunState): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const json = options.json === true;
  return {
    options,
    output: processOutput(json),
    progressMode: resolveProgressMode(options.progress, json),
    run,
  };
}

/** Runs `fn` with a client for the server, closing it afterwards. */
export async function withClient<T>(
  context: CommandContext,
  fn: (client: MlsdmClient) => Promise<T>,
): Promise<T> {
  const client = connect(context.options);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** A commander parser for a number within [min, max]. */
export function numberIn(min: number, max: number, integer = false): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === "" || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
      throw new InvalidArgumentError(`expected ${integer ? "an integer" : "a number"}, got "${value}"`);
    }
    if (parsed < min || parsed > max)
      throw new InvalidArgumentError(`expected ${min} to ${max}, got ${value}`);
    return parsed;
  };
}

/** A commander parser for a duration: `90s`, `15m`, `24h`, `30d` or plain seconds. */
export function durationSeconds(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected a duration like 90s, 15m, 24h or 30d, got "${value}"`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}
