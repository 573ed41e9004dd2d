/**
 * The `mlsdm` command: its global options, its commands, and how an outcome becomes an exit
 * code and a line of text (docs/cli.md). `run` never exits the process itself, so tests and
 * embedders can call it.
 */
import { Command, CommanderError, Option } from "commander";
import { MlsdmError } from "../client/index.js";
import { VERSION } from "../version.js";
import { addAdminCommands } from "./commands/admin.js";
import { addBenchCommand } from "./commands/bench.js";
import { addConfigCommands } from "./commands/config.js";
import { addEngineCommands } from "./commands/engine.js";
import { serverUrl, type GlobalOptions } from "./connection.js";
import { numberIn, type RunState } from "./context.js";
import { CliError, EXIT } from "./exit-codes.js";

/** What `run` ends with: the exit code, and whether the process must stay up (`serve`). */
export interface RunResult {
  readonly exitCode: number;
  readonly keepAlive: boolean;
}

interface ProgramState extends RunState {
  keepAlive: boolean;
}

function buildProgram(state: ProgramState): Command {
  const program = new Command("mlsdm")
    .description("MLSDM: run the server, call it, operate it (docs/cli.md)")
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError()
    .option(
      "--url <url>",
      "the server: http(s)://host:8080 (HTTP listener) or grpc(s)://host:50051 (grpc-js listener); env MLSDM_URL",
    )
    .addOption(
      new Option("--transport <protocol>", "the protocol (default: connect for http, grpc for grpc)").choices(
        ["grpc", "connect", "grpc-web"],
      ),
    )
    .option("--json", "print JSON (one object per command) for scripts")
    .option("--ca <file>", "CA bundle of the server certificate (https/grpcs); env MLSDM_CLIENT_CA")
    .option("--cert <file>", "client certificate for mTLS; env MLSDM_CLIENT_CERT")
    .option("--key <file>", "client private key for mTLS; env MLSDM_CLIENT_KEY")
    .option("--servername <name>", "server name to verify instead of the URL's host")
    .option(
      "--timeout <ms>",
      "overall deadline of each call, retries included (0: none)",
      numberIn(0, 86_400_000, true),
      30_000,
    )
    .addOption(
      new Option("--progress <mode>", "progress display")
        .choices(["auto", "bar", "plain", "none"])
        .default("auto"),
    );

  program
    .command("serve")
    .description("run the MLSDM server (configured by MLSDM_* variables and MLSDM_CONFIG)")
    .option("--config <file>", "a YAML configuration file (sets MLSDM_CONFIG)")
    .action(async (options: { config?: string }) => {
      if (options.config !== undefined) process.env.MLSDM_CONFIG = options.config;
      state.keepAlive = true;
      const { runServer } = await import("../serve.js");
      await runServer();
    });
  addEngineCommands(program, state);
  addAdminCommands(program, state);
  addConfigCommands(program, state);
  addBenchCommand(program, state);
  return program;
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes("--json");
}

function urlIn(argv: readonly string[]): string {
  const index = argv.indexOf("--url");
  const inline = argv.find((arg) => arg.startsWith("--url="));
  const given = inline?.slice("--url=".length) ?? (index >= 0 ? argv[index + 1] : undefined);
  return serverUrl({ ...(given === undefined ? {} : { url: given }) } as GlobalOptions, process.env);
}

/** The exit code of a failure, after printing it (JSON on stdout with --json, text on stderr). */
function report(error: unknown, argv: readonly string[]): number {
  if (error instanceof CommanderError) {
    // Commander printed its message (or the help) already.
    return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  const json = wantsJson(argv);
  let exitCode: number;
  let text: string;
  let body: Record<string, unknown>;
  if (error instanceof MlsdmError) {
    exitCode = error.connection ? EXIT.CONNECTION : EXIT.SERVER;
    text = error.connection
      ? `connection error: cannot reach ${urlIn(argv)}: ${error.message}`
      : `${error.describe()}${error.requestId ? ` [request ${error.requestId}]` : ""}`;
    body = error.toJSON();
  } else if (error instanceof CliError) {
    exitCode = error.exitCode;
    text = `error: ${error.message}`;
    body = { message: error.message };
  } else {
    exitCode = EXIT.FAILURE;
    text = `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
    body = { message: error instanceof Error ? error.message : String(error) };
  }
  if (json) process.stdout.write(`${JSON.stringify({ error: { ...body, exitCode } }, null, 2)}\n`);
  else process.stderr.write(`${text}\n`);
  return exitCode;
}

/** Runs the command line `argv` (as `process.argv`: node, script, arguments). */
export async function run(argv: readonly string[]): Promise<RunResult> {
  const state: ProgramState = { exitCode: EXIT.OK, keepAlive: false };
  const program = buildProgram(state);
  try {
    await program.parseAsync([...argv]);
    return { exitCode: state.exitCode, keepAlive: state.keepAlive };
  } catch (error) {
    return { exitCode: report(error, argv.slice(2)), keepAlive: false };
  }
}
