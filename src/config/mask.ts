/**
 * Secret masking, so the effective configuration can be logged at start-up and shown by
 * `mlsdm config print` without leaking credentials.
 */
import { configEntries, isRecord, type ConfigEntry } from "./entries.js";

/** What a set secret is replaced with. */
export const MASK = "***";

/**
 * A deep copy of `config` with every secret leaf that is set (not undefined, null or "")
 * replaced by "***". `entries` defaults to the service's schema; tests pass their own.
 */
export function maskSecrets<T extends object>(
  config: T,
  entries: readonly ConfigEntry[] = configEntries(),
): T {
  const copy = structuredClone(config);
  for (const entry of entries) {
    if (!entry.secret) continue;
    let node: unknown = copy;
    for (const segment of entry.path.slice(0, -1)) node = isRecord(node) ? node[segment] : undefined;
    const last = entry.path[entry.path.length - 1];
    if (!isRecord(node) || last === undefined) continue;
    const value = node[last];
    if (value !== undefined && value !== null && value !== "") node[last] = MASK;
  }
  return copy;
}
