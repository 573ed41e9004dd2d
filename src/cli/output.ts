/**
 * What the command prints: JSON (`--json`, one object per command, for scripts) or readable
 * key/value blocks and tables. Protobuf messages go through protobuf-es `toJson`, so 64-bit
 * integers, enums and timestamps read the same as in the Connect JSON API.
 */
import { toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

/** Where and how a command prints. */
export interface Output {
  readonly json: boolean;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
}

/** The process's stdout and stderr. */
export function processOutput(json: boolean): Output {
  return {
    json,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}

/** A message as JSON (enum names, string 64-bit integers, RFC 3339 timestamps). */
export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): unknown {
  return toJson(schema, message, { alwaysEmitImplicit: true });
}

/** The name of an enum value (`Phase.WAKE` → "WAKE"), or its number when unknown. */
export function enumName(values: object, value: number): string {
  return (values as Record<number, string | undefined>)[value] ?? String(value);
}

/** Dotted `key → text` pairs of a JSON value. */
export function flatten(value: unknown, prefix = ""): [string, string][] {
  if (value === null || value === undefined) return [[prefix, ""]];
  if (typeof value !== "object") return [[prefix, typeof value === "string" ? value : JSON.stringify(value)]];
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== "object")) {
      return [[prefix, value.map(String).join(", ")]];
    }
    return value.flatMap((item, index) => flatten(item, `${prefix}[${index}]`));
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return prefix === "" ? [] : [[prefix, ""]];
  return entries.flatMap(([key, child]) => flatten(child, prefix === "" ? key : `${prefix}.${key}`));
}

/** Aligned `key  value` lines. */
export function keyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value}\n`).join("");
}

/** A table with a header row; cells are single-line text. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd() + "\n";
  return line(headers) + line(widths.map((w) => "-".repeat(w))) + rows.map(line).join("");
}

/** Prints `value` as JSON, or `human()` as text. */
export function print(output: Output, value: unknown, human: () => string): void {
  output.out(output.json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** Prints a message: JSON, or its flattened fields. */
export function printMessage<Desc extends DescMessage>(
  output: Output,
  schema: Desc,
  message: MessageShape<Desc>,
): void {
  const json = messageJson(schema, message);
  print(output, json, () => keyValues(flatten(json)));
}
