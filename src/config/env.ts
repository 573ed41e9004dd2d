/**
 * Reading configuration from `MLSDM_*` environment variables.
 *
 * Parsing is strict and typed per leaf, unlike the reference's "parse to bool/int/float where
 * possible": "12abc", "" or "1.5" for an integer is an error, not a silently different value.
 */
import type { ConfigEntry } from "./entries.js";
import { invalidValue } from "./errors.js";

/** The environment variable that names the optional YAML configuration file. */
export const CONFIG_FILE_ENV = "MLSDM_CONFIG";

/**
 * Variables the `mlsdm` command reads as a client (docs/cli.md); the server ignores them
 * without a warning, so one shell can run both.
 */
export const CLIENT_ENV_VARS: readonly string[] = [
  "MLSDM_URL",
  "MLSDM_CLIENT_API_KEY",
  "MLSDM_CLIENT_SIGNING_KEY",
  "MLSDM_CLIENT_CA",
  "MLSDM_CLIENT_CERT",
  "MLSDM_CLIENT_KEY",
];

/** The prefix of every environment variable the service reads. */
export const ENV_PREFIX = "MLSDM_";

const INTEGER = /^[+-]?\d+$/;
// eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(["true", "1", "yes"]);
const FALSE_WORDS = new Set(["false", "0", "no"]);

/** What an environment variable may hold for a boolean key. */
export const ENV_BOOLEAN_ALLOWED = "true or false (also 1/0, yes/no)";

/**
 * Converts one environment variable's text to the leaf's type. Range and enum membership are
 * left to the schema; this only refuses text that is not a literal of the type.
 */
export function parseEnvValue(entry: ConfigEntry, raw: string): unknown {
  const fail = (allowed: string): never => {
    throw invalidValue({ key: entry.key, source: entry.env, value: raw, allowed, secret: entry.secret });
  };
  switch (entry.type) {
    case "integer":
      return INTEGER.test(raw) ? Number(raw) : fail(entry.allowed);
    case "number": {
      const value = Number(raw);
      return NUMBER.test(raw) && Number.isFinite(value) ? value : fail(entry.allowed);
    }
    case "boolean": {
      const word = raw.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return fail(ENV_BOOLEAN_ALLOWED);
    }
    case "enum":
    case "string":
      return raw;
  }
}

/** The values set in `env` for known keys, parsed, keyed by dotted key. */
export function readEnvOverrides(
  entries: readonly ConfigEntry[],
  env: Readonly<Record<string, string | undefined>>,
): Map<string, { entry: ConfigEntry; raw: string; value: unknown }> {
  const overrides = new Map<string, { entry: ConfigEntry; raw: string; value: unknown }>();
  for (const entry of entries) {
    const raw = env[entry.env];
    if (raw === undefined) continue;
    overrides.set(entry.key, { entry, raw, value: parseEnvValue(entry, raw) });
  }
  return overrides;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest of `candidates` to `name`, if it is close enough to be a likely typo. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name.toUpperCase(), candidate.toUpperCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/**
 * One warning per `MLSDM_*` variable that matches no key (a typo would otherwise be ignored
 * silently). Warnings, not errors, so that a newer deployment can run an older image.
 */
export function unknownEnvWarnings(
  entries: readonly ConfigEntry[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const known = new Set([CONFIG_FILE_ENV, ...CLIENT_ENV_VARS, ...entries.map((entry) => entry.env)]);
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name) || env[name] === undefined) continue;
    const hint = suggest(name, known);
    warnings.push(
      `${name} is not a known setting and was ignored${hint === undefined ? "" : ` (did you mean ${hint}?)`}`,
    );
  }
  return warnings;
}
