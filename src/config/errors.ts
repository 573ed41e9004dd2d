/**
 * The configuration error: what start-up prints (one line) before exiting with code 2.
 *
 * Codes follow the E8xx family of the error catalogue (DESIGN rule 4). The fields let callers
 * (the CLI, tests) act on the error without parsing the message.
 */

/** Configuration error codes and their stable reasons. */
export const CONFIG_ERROR_REASONS = {
  E801: "CONFIG_INVALID",
  E802: "CONFIG_FILE_UNREADABLE",
  E803: "CONFIG_FILE_INVALID",
  E804: "CONFIG_INSECURE",
} as const;

/** A configuration error code. */
export type ConfigErrorCode = keyof typeof CONFIG_ERROR_REASONS;

/** The parts a configuration error is built from. */
export interface ConfigErrorDetails {
  code: ConfigErrorCode;
  /** Dotted key ("server.grpcPort"); undefined when the whole file is at fault. */
  key: string | undefined;
  /** Where the value came from: the environment variable name or the config file path. */
  source: string;
  /** The value as given (a string from the environment, the parsed YAML value from the file). */
  value: unknown;
  /** What would have been accepted, in words. */
  allowed: string;
  /** The one-line message after "E8xx REASON: ". */
  detail: string;
}

/**
 * A bad configuration value, an unreadable file or an invalid file. `message` is always a
 * single line starting with the code and reason, e.g.
 * `E801 CONFIG_INVALID: server.grpcPort (MLSDM_GRPC_PORT) = "abc": expected an integer from 0 to 65535`.
 */
export class ConfigError extends Error {
  /** E801 (bad value), E802 (file unreadable), E803 (file not valid YAML or not a mapping), E804 (refused in secure mode). */
  readonly code: ConfigErrorCode;
  /** UPPER_SNAKE reason matching `code`. */
  readonly reason: (typeof CONFIG_ERROR_REASONS)[ConfigErrorCode];
  /** Dotted key at fault, or undefined for whole-file errors. */
  readonly key: string | undefined;
  /** Environment variable name or config file path. */
  readonly source: string;
  /** The value as given ("***" for secrets). */
  readonly value: unknown;
  /** What would have been accepted, in words. */
  readonly allowed: string;

  constructor(details: ConfigErrorDetails) {
    const reason = CONFIG_ERROR_REASONS[details.code];
    super(oneLine(`${details.code} ${reason}: ${details.detail}`));
    this.name = "ConfigError";
    this.code = details.code;
    this.reason = reason;
    this.key = details.key;
    this.source = details.source;
    this.value = details.value;
    this.allowed = details.allowed;
  }
}

/** Joins the lines of a text with single spaces so a message always fits one log line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

const MAX_VALUE_CHARS = 80;

/** Renders a value for a message: JSON (strings quoted), shortened to stay readable. */
export function showValue(value: unknown): string {
  let shown = String(value);
  try {
    // JSON.stringify returns undefined (despite its type) for undefined; keep String() then.
    if (value !== undefined) shown = JSON.stringify(value);
  } catch {
    // BigInt or a cycle: String() above is the best we can do.
  }
  return shown.length > MAX_VALUE_CHARS ? `${shown.slice(0, MAX_VALUE_CHARS - 3)}...` : shown;
}

/** Builds the E801 error for a key whose value is not accepted. */
export function invalidValue(options: {
  key: string;
  source: string;
  value: unknown;
  allowed: string;
  secret?: boolean;
  problem?: string;
}): ConfigError {
  const value = options.secret === true ? "***" : options.value;
  const problem = options.problem ?? `expected ${options.allowed}`;
  return new ConfigError({
    code: "E801",
    key: options.key,
    source: options.source,
    value,
    allowed: options.allowed,
    detail: `${options.key} (${options.source}) = ${showValue(value)}: ${problem}`,
  });
}
