/**
 * Reading the optional YAML configuration file named by `MLSDM_CONFIG`.
 *
 * The file uses the schema's nested camelCase keys. Reading is synchronous because it happens
 * once, before anything else starts.
 */
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { isRecord } from "./entries.js";
import { CONFIG_FILE_ENV } from "./env.js";
import { ConfigError, oneLine } from "./errors.js";

/** The parsed file: its top-level mapping, plus non-fatal remarks from the YAML parser. */
export interface ConfigFileContents {
  data: Record<string, unknown>;
  warnings: string[];
}

function firstLine(text: string): string {
  return oneLine(text.split(/\r?\n/, 1)[0] ?? text);
}

/**
 * Reads and parses the file at `path` (already resolved to an absolute path). An empty file is
 * an empty mapping. Throws E802 when it cannot be read and E803 when it is not a YAML mapping.
 */
export function readConfigFile(path: string): ConfigFileContents {
  let text: string;
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- the config file path comes from the operator (command line or environment), never from a call
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? firstLine(error.message) : String(error);
    throw new ConfigError({
      code: "E802",
      key: undefined,
      source: path,
      value: path,
      allowed: "a readable YAML file",
      detail: `cannot read ${path} (named by ${CONFIG_FILE_ENV}): ${reason}`,
    });
  }
  const invalid = (problem: string): ConfigError =>
    new ConfigError({
      code: "E803",
      key: undefined,
      source: path,
      value: path,
      allowed: "a YAML mapping of configuration sections and keys",
      detail: `${path} (named by ${CONFIG_FILE_ENV}) is not valid configuration YAML: ${problem}`,
    });
  // prettyErrors puts "at line L, column C" into each message's first line.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [syntaxError] = document.errors;
  if (syntaxError !== undefined) throw invalid(firstLine(syntaxError.message).replace(/:$/, ""));
  const data: unknown = document.toJS();
  if (data === null || data === undefined) return { data: {}, warnings: [] };
  if (!isRecord(data)) {
    throw invalid(
      `the top level must be a mapping of sections, not ${Array.isArray(data) ? "a list" : "a scalar"}`,
    );
  }
  const warnings = document.warnings.map(
    (warning) => `${path}: ${firstLine(warning.message).replace(/:$/, "")}`,
  );
  return { data, warnings };
}
