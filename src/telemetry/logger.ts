/**
 * Structured logging with winston: one JSON object per line on stdout (12-factor), or a
 * readable single line per entry when `format` is "pretty" (for a terminal).
 *
 * This is the foundation's logger; the observability work adds request ids, trace ids and
 * PII scrubbing as winston formats here, so every caller keeps using `logger`.
 */
import winston from "winston";
import { scrubPii } from "./pii/index.js";
import { currentRequest } from "./request-context.js";
import { activeTraceIds } from "./tracing/server-span.js";

/** Log levels accepted by configuration, most to least severe. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Output formats accepted by configuration. */
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Name and version stamped on every line. */
export const SERVICE_NAME = "mlsdm";

/** Adds the current request's id and method, and the active trace and span ids, to every line. */
const requestFields = winston.format((info) => {
  const request = currentRequest();
  if (request) {
    info.request_id ??= request.requestId;
    info.method ??= request.method;
    if (request.identityId !== undefined) info.identity_id ??= request.identityId;
  }
  const ids = activeTraceIds();
  if (ids) {
    info.trace_id ??= ids.traceId;
    info.span_id ??= ids.spanId;
  }
  return info;
});

const MAX_SCRUB_DEPTH = 4;

/**
 * `value` with every string inside it scrubbed (objects and arrays copied only where something
 * changed, so the caller's objects are never modified), to a bounded depth.
 */
function scrubDeep(value: unknown, depth: number): unknown {
  if (typeof value === "string") return scrubPii(value);
  if (depth >= MAX_SCRUB_DEPTH || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => scrubDeep(item, depth + 1));
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value; // Errors, Dates, buffers
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const scrubbed = scrubDeep(item, depth + 1);
    if (scrubbed !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = scrubbed;
  }
  return copy ?? value;
}

/**
 * Scrubs personal data and credentials (BASE-SEC-d) from the message and every string field,
 * nested ones included: a value that slipped into a log call (an error message quoting a
 * prompt, a header) is masked before the line is written.
 */
const scrubFields = winston.format((info) => {
  for (const [key, value] of Object.entries(info)) {
    if (key !== "level") info[key] = scrubDeep(value, 0);
  }
  return info;
});

function formatFor(format: LogFormat): winston.Logform.Format {
  const base = winston.format.combine(
    scrubFields(),
    requestFields(),
    winston.format.timestamp(),
    winston.format.errors({ stack: false }),
  );
  if (format === "pretty") {
    return winston.format.combine(
      base,
      winston.format.printf((info) => {
        const { timestamp, level, message, service: _s, version: _v, ...rest } = info;
        const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
        return `${String(timestamp)} ${level.toUpperCase()} ${String(message)}${extra}`;
      }),
    );
  }
  return winston.format.combine(base, winston.format.json());
}

/** The process-wide logger. Silent until `configureLogger` runs, except for warnings and errors. */
export const logger = winston.createLogger({
  level: "info",
  defaultMeta: { service: SERVICE_NAME },
  format: formatFor("json"),
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's own Console transport; its typings declare a separate TransportStream class
  transports: [new winston.transports.Console({ stderrLevels: [] })],
});

/** Applies the configured level and format, and stamps the service version on every line. */
export function configureLogger(options: { level: LogLevel; format: LogFormat; version: string }): void {
  logger.level = options.level;
  logger.format = formatFor(options.format);
  logger.defaultMeta = { service: SERVICE_NAME, version: options.version };
}
