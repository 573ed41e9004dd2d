/**
 * The configuration as flat `dotted.key → string` pairs (for AdminService.GetStatus and
 * other human-facing summaries). Pass it a masked copy (`maskSecrets`) first.
 */

/** Flattens nested plain objects into dotted keys with string values. */
export function flattenConfig(value: object, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, child] of Object.entries(value)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    if (child !== null && typeof child === "object" && !Array.isArray(child)) {
      Object.assign(out, flattenConfig(child as object, path));
    } else {
      out[path] = Array.isArray(child) ? child.map(String).join(",") : String(child);
    }
  }
  return out;
}

/** The numeric value at a dotted key (e.g. "core.dimension"), or undefined if none. */
export function configNumber(config: object, key: string): number | undefined {
  let node: unknown = config;
  for (const part of key.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "number" ? node : undefined;
}
