/**
 * Loading the configuration: defaults, then the optional YAML file named by `MLSDM_CONFIG`,
 * then `MLSDM_*` environment variables (the environment wins), validated by the one schema.
 *
 * The loader takes the environment as an argument instead of reading `process.env`, so tests
 * and the CLI can load any configuration without touching the process.
 */
import { resolve } from "node:path";
import type { z } from "zod";
import { configEntries, getPath, isRecord, sectionShape, type ConfigEntry } from "./entries.js";
import { CONFIG_FILE_ENV, readEnvOverrides, suggest, unknownEnvWarnings } from "./env.js";
import { ConfigError, invalidValue } from "./errors.js";
import { readConfigFile } from "./file.js";
import { resolveLogFormat, type ResolvedLogFormat } from "./log-format.js";
import { configSchema, type Config } from "./schema.js";

/** What `loadConfig` reads. */
export interface LoadConfigOptions {
  /** The environment, usually `process.env`. Only `MLSDM_*` variables are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal; decides what `log.format: auto` means. */
  isTty?: boolean;
}

/** A validated configuration and what the loader noticed on the way. */
export interface LoadedConfig {
  /** The effective configuration. */
  config: Config;
  /** Non-fatal findings, e.g. an `MLSDM_*` variable that matches no key. Log them at start-up. */
  warnings: string[];
  /** Where each key's value came from: "default", the environment variable name, or the file path. */
  sources: Record<string, string>;
  /** The absolute path of the YAML file read, if any. */
  configFile: string | undefined;
  /** `log.format` with "auto" resolved against `isTty`. */
  logFormat: ResolvedLogFormat;
}

type Overrides = ReturnType<typeof readEnvOverrides>;

/** Empty sections in YAML (`server:` with every key commented out) parse as null: treat as absent. */
function dropNullSections(data: Record<string, unknown>, shape: Record<string, z.ZodType>): void {
  for (const [name, child] of Object.entries(shape)) {
    const section = sectionShape(child);
    if (section === undefined || !Object.hasOwn(data, name)) continue;
    const value = data[name];
    if (value === null) Reflect.deleteProperty(data, name);
    else if (isRecord(value)) dropNullSections(value, section);
  }
}

/** Writes an environment value into the nested input, unless the file put a non-mapping on the way. */
function overlay(input: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = input;
  for (const segment of path.slice(0, -1)) {
    if (!Object.hasOwn(node, segment)) node[segment] = {};
    const next = node[segment];
    if (!isRecord(next)) return; // the schema reports the file's non-mapping with its own key
    node = next;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/** Human text for an issue that is not about a single leaf (e.g. a section that is not a mapping). */
function allowedFromIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "object"
        ? "a mapping of keys"
        : `${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
    case "invalid_value":
      return `one of: ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return `at least ${String(issue.minimum)}`;
    case "too_big":
      return `at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

interface IssueContext {
  entries: readonly ConfigEntry[];
  overrides: Overrides;
  fileData: Record<string, unknown>;
  filePath: string | undefined;
}

/** Turns the first schema issue into a ConfigError naming the key, its source and the rule. */
function toConfigError(issue: z.core.$ZodIssue, context: IssueContext): ConfigError {
  const path = issue.path.map(String);
  const fileSource = context.filePath ?? "defaults";
  if (issue.code === "unrecognized_keys") {
    const name = issue.keys[0] ?? "";
    const known = Object.keys(path.length === 0 ? configSchema.shape : (sectionShapeAt(path) ?? {}));
    const prefix = path.length === 0 ? "" : `${path.join(".")}.`;
    const hint = suggest(name, known);
    const allowed = `one of: ${known.join(", ")}`;
    return invalidValue({
      key: `${prefix}${name}`,
      source: fileSource,
      value: getPath(context.fileData, [...path, name]),
      allowed,
      problem: `unknown key${hint === undefined ? "" : ` (did you mean ${prefix}${hint}?)`}, expected ${allowed}`,
    });
  }
  const key = path.join(".");
  const entry = context.entries.find((candidate) => candidate.key === key);
  const override = context.overrides.get(key);
  const fromEnv = override !== undefined;
  return invalidValue({
    key: key === "" ? "(top level)" : key,
    source: fromEnv ? override.entry.env : fileSource,
    value: fromEnv ? override.raw : getPath(context.fileData, path),
    allowed: entry !== undefined && issue.code !== "custom" ? entry.allowed : allowedFromIssue(issue),
    secret: entry?.secret === true,
  });
}

function sectionShapeAt(path: readonly string[]): Record<string, z.ZodType> | undefined {
  let shape: Record<string, z.ZodType> | undefined = configSchema.shape;
  for (const segment of path) {
    const child: z.ZodType | undefined = shape?.[segment];
    shape = child === undefined ? undefined : sectionShape(child);
  }
  return shape;
}

/**
 * Loads and validates the configuration. Throws `ConfigError` on the first bad value (E801),
 * an unreadable file (E802) or a file that is not a YAML mapping (E803); the caller prints
 * `error.message` (one line) and exits with code 2.
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const { env } = options;
  const entries = configEntries();
  const overrides = readEnvOverrides(entries, env);
  const warnings = unknownEnvWarnings(entries, env);

  const fileName = env[CONFIG_FILE_ENV];
  let filePath: string | undefined;
  let fileData: Record<string, unknown> = {};
  if (fileName !== undefined) {
    if (fileName === "") {
      throw new ConfigError({
        code: "E802",
        key: undefined,
        source: CONFIG_FILE_ENV,
        value: fileName,
        allowed: "the path of a readable YAML file",
        detail: `${CONFIG_FILE_ENV} is set but empty; unset it or name a YAML file`,
      });
    }
    filePath = resolve(fileName);
    const contents = readConfigFile(filePath);
    fileData = contents.data;
    warnings.push(...contents.warnings);
    dropNullSections(fileData, configSchema.shape);
  }

  const input = structuredClone(fileData);
  for (const { entry, value } of overrides.values()) overlay(input, entry.path, value);

  const result = configSchema.safeParse(input);
  if (!result.success) {
    const [issue] = result.error.issues;
    if (issue === undefined) throw new Error("configuration rejected without an issue");
    throw toConfigError(issue, { entries, overrides, fileData, filePath });
  }

  const sources: Record<string, string> = {};
  for (const entry of entries) {
    sources[entry.key] =
      overrides.get(entry.key)?.entry.env ??
      (filePath !== undefined && getPath(fileData, entry.path) !== undefined ? filePath : "default");
  }
  return {
    config: result.data,
    warnings,
    sources,
    configFile: filePath,
    logFormat: resolveLogFormat(result.data.log.format, options.isTty),
  };
}
