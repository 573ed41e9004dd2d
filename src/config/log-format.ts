/**
 * Resolution of the `log.format` setting. The configuration keeps "auto" as written (so
 * `mlsdm config print` shows what was asked for); the logger needs a concrete format.
 */
import type { LogFormatSetting } from "./schema.js";

/** A concrete log output format. */
export type ResolvedLogFormat = Exclude<LogFormatSetting, "auto">;

/** "auto" becomes "pretty" when stdout is a terminal and "json" otherwise; others pass through. */
export function resolveLogFormat(format: LogFormatSetting, isTty: boolean | undefined): ResolvedLogFormat {
  if (format !== "auto") return format;
  return isTty === true ? "pretty" : "json";
}
