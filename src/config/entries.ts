/**
 * A flat view of the configuration schema: one entry per leaf with its dotted key, environment
 * variable, value type, allowed values, default, description and secrecy.
 *
 * The loader, the error messages, the docs table and secret masking all read this list, so what
 * the service accepts, what it says when a value is wrong and what the docs promise cannot drift.
 */
import { z } from "zod";
import { configMeta } from "./meta.js";
import { configSchema } from "./schema.js";

/** The value types a leaf may have; each has one strict environment-variable syntax. */
export type ConfigValueType = "integer" | "number" | "boolean" | "enum" | "string";

/** One configuration leaf, as walked from the schema. */
export interface ConfigEntry {
  /** Dotted path, e.g. "server.grpcPort". */
  key: string;
  /** The same path as segments, for reading and writing nested objects. */
  path: readonly string[];
  /** The environment variable that overrides the key. */
  env: string;
  /** The value type, which decides how the environment variable is parsed. */
  type: ConfigValueType;
  /** Human text for the accepted values: "an integer from 0 to 65535", "one of: a, b". */
  allowed: string;
  /** The default value. */
  default: unknown;
  /** Meaning and unit. */
  description: string;
  /** True when the value must be masked when printed. */
  secret: boolean;
  /** The leaf's zod schema (with its default). */
  schema: z.ZodType;
}

/** The JSON Schema facts `describe` needs; zod's converter is the public way to read bounds. */
interface JsonFacts {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
}

function jsonFacts(schema: z.ZodType): JsonFacts {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonFacts;
}

/** True for a plain (non-array, non-null) object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object schema of a section, seen through the `.prefault({})` that fills it in. */
export function sectionShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  if (schema instanceof z.ZodObject) return schema.shape;
  if (schema instanceof z.ZodPrefault || schema instanceof z.ZodDefault) {
    return sectionShape(schema.unwrap() as z.ZodType);
  }
  return undefined;
}

function valueType(key: string, facts: JsonFacts): ConfigValueType {
  if (facts.enum !== undefined) return "enum";
  switch (facts.type) {
    case "integer":
    case "number":
    case "boolean":
    case "string":
      return facts.type;
    default:
      throw new Error(
        `config schema: ${key} has a type the loader cannot read from the environment (${String(facts.type)})`,
      );
  }
}

function bound(value: number | undefined): number | undefined {
  return value === undefined || Math.abs(value) >= Number.MAX_SAFE_INTEGER ? undefined : value;
}

function describeNumber(noun: string, facts: JsonFacts): string {
  const min = bound(facts.minimum);
  const max = bound(facts.maximum);
  const xmin = bound(facts.exclusiveMinimum);
  const xmax = bound(facts.exclusiveMaximum);
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`at least ${min}`);
  if (xmin !== undefined) parts.push(`greater than ${xmin}`);
  if (max !== undefined) parts.push(`at most ${max}`);
  if (xmax !== undefined) parts.push(`less than ${xmax}`);
  return parts.length === 0 ? noun : `${noun} ${parts.join(" and ")}`;
}

/**
 * Human text for the values a leaf accepts, read from the schema itself so that the docs and the
 * error messages always show the whole rule (both bounds), whichever check failed.
 */
export function describeAllowed(schema: z.ZodType): string {
  const facts = jsonFacts(schema);
  if (facts.enum !== undefined) return `one of: ${facts.enum.map(String).join(", ")}`;
  switch (facts.type) {
    case "integer":
      return describeNumber("an integer", facts);
    case "number":
      return describeNumber("a number", facts);
    case "boolean":
      return "true or false";
    case "string":
      return (facts.minLength ?? 0) > 0 ? "a non-empty string" : "a string";
    default:
      return String(facts.type);
  }
}

function walk(shape: Record<string, z.ZodType>, prefix: readonly string[], out: ConfigEntry[]): void {
  for (const [name, child] of Object.entries(shape)) {
    const path = [...prefix, name];
    const key = path.join(".");
    const meta = configMeta.get(child);
    if (meta !== undefined) {
      const facts = jsonFacts(child);
      out.push({
        key,
        path,
        env: meta.env,
        type: valueType(key, facts),
        allowed: describeAllowed(child),
        default: child.parse(undefined),
        description: meta.description,
        secret: meta.secret === true,
        schema: child,
      });
      continue;
    }
    const section = sectionShape(child);
    if (section === undefined) {
      throw new Error(`config schema: ${key} is neither a section nor a leaf declared with key(...)`);
    }
    walk(section, path, out);
  }
}

const cache = new WeakMap<z.ZodObject, readonly ConfigEntry[]>();

/**
 * Every leaf of `schema` (the service's schema unless another is given, as tests do), in
 * declaration order. Throws if a leaf lacks metadata: that is a programming error.
 */
export function configEntries(schema: z.ZodObject = configSchema): readonly ConfigEntry[] {
  let entries = cache.get(schema);
  if (entries === undefined) {
    const out: ConfigEntry[] = [];
    walk(schema.shape, [], out);
    entries = Object.freeze(out);
    cache.set(schema, entries);
  }
  return entries;
}

/** Reads the value at `path` in a nested object, or undefined when any step is missing. */
export function getPath(root: unknown, path: readonly string[]): unknown {
  let node: unknown = root;
  for (const segment of path) {
    if (!isRecord(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}
