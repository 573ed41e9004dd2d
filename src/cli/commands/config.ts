/**
 * `mlsdm config print|validate`: the effective configuration of a server started from this
 * environment (defaults, the `MLSDM_CONFIG` file, `MLSDM_*` variables), read locally.
 */
import type { Command } from "commander";
import { ConfigError, loadConfig, maskSecrets, type LoadedConfig } from "../../config/index.js";
import { flattenConfig } from "../../config/flatten.js";
import { checkStartup } from "../../policy/startup-checks.js";
import { startupFacts } from "../../policy/startup-facts.js";
import { contextOf, type RunState } from "../context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { print, table } from "../output.js";

function load(file: string | undefined): LoadedConfig {
  const env = file === undefined ? process.env : { ...process.env, MLSDM_CONFIG: file };
  try {
    return loadConfig({ env, isTty: process.stdout.isTTY });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT.USAGE);
    throw error;
  }
}

/** Adds `config ...` to `program`. */
export function addConfigCommands(program: Command, run: RunState): void {
  const config = program.command("config").description("the configuration a server started here would use");
  config
    .command("print")
    .description("print the effective configuration, secrets masked")
    .option("--file <path>", "a YAML configuration file (instead of MLSDM_CONFIG)")
    .action((options: { file?: string }, command: Command) => {
      const context = contextOf(command, run);
      const loaded = load(options.file);
      const masked = maskSecrets(loaded.config);
      print(
        context.output,
        {
          config: masked,
          sources: loaded.sources,
          configFile: loaded.configFile ?? null,
          warnings: loaded.warnings,
        },
        () =>
          table(
            ["KEY", "VALUE", "SOURCE"],
            Object.entries(flattenConfig(masked)).map(([key, value]) => [
              key,
              value,
              loaded.sources[key] ?? "default",
            ]),
          ) + loaded.warnings.map((warning) => `warning: ${warning}\n`).join(""),
      );
    });
  config
    .command("validate")
    .description("check the configuration and the start-up rules (exit 2 with the E8xx line when bad)")
    .option("--file <path>", "a YAML configuration file (instead of MLSDM_CONFIG)")
    .action((options: { file?: string }, command: Command) => {
      const context = contextOf(command, run);
      const loaded = load(options.file);
      const verdict = checkStartup(startupFacts(loaded.config));
      if (!verdict.ok) throw new CliError(verdict.error.message, EXIT.USAGE);
      const warnings = [...loaded.warnings, ...verdict.warnings.map((warning) => warning.message)];
      print(
        context.output,
        { valid: true, configFile: loaded.configFile ?? null, warnings },
        () => ["configuration valid", ...warnings.map((warning) => `warning: ${warning}`)].join("\n") + "\n",
      );
    });
}
