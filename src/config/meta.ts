/**
 * The metadata every configuration key declares next to its type and default.
 *
 * Metadata lives in a typed zod registry rather than in comments or a side table, so the
 * schema stays the single source for environment variable names, documentation and secret
 * masking (DESIGN rule 5): adding a key is one `key(...)` entry in `schema.ts`.
 */
import { z } from "zod";

/** What a configuration leaf declares besides its zod type and default. */
export interface ConfigKeyMeta {
  /** The environment variable that overrides this key (environment wins over the YAML file). */
  env: `MLSDM_${string}`;
  /** Meaning, unit and range in one or two sentences; rendered into docs/configuration.md. */
  description: string;
  /** A credential: shown as "***" by `maskSecrets` and never echoed in error messages. */
  secret?: boolean;
}

/**
 * The registry that holds each leaf's metadata. A separate registry (instead of zod's global
 * one) types the metadata, so a key without an `env` or `description` does not compile.
 */
export const configMeta = z.registry<ConfigKeyMeta>();

/**
 * Declares a configuration leaf: a zod schema that has a default, plus its metadata.
 * Requiring `ZodDefault` makes "every knob has a default" a compile-time rule.
 */
export function key<T extends z.ZodDefault>(schema: T, meta: ConfigKeyMeta): T {
  configMeta.add(schema, meta);
  return schema;
}

/** An integer leaf bounded on both sides (ports, sizes, durations in milliseconds). */
export function integer(min: number, max: number, fallback: number): z.ZodDefault<z.ZodInt> {
  return z.int().min(min).max(max).default(fallback);
}

/** A boolean leaf. */
export function flag(fallback: boolean): z.ZodDefault<z.ZodBoolean> {
  return z.boolean().default(fallback);
}

/** A leaf that takes one of a fixed list of words. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
  fallback: T[number],
): z.ZodDefault<z.ZodEnum<{ [K in T[number]]: K }>> {
  return z.enum(values).default(fallback);
}

/** A non-empty string leaf (host names, paths). */
export function text(fallback: string): z.ZodDefault<z.ZodString> {
  return z.string().min(1).default(fallback);
}

/** A secret string leaf; the empty default means "not set". */
export function secret(): z.ZodDefault<z.ZodString> {
  return z.string().default("");
}

/** A string leaf that may be empty (empty means "not set": a per-backend default applies). */
export function optionalText(fallback = ""): z.ZodDefault<z.ZodString> {
  return z.string().default(fallback);
}
