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

/**
 * Scrubs personal data and credentials from the message and every top-level string field
 * (BASE-SEC-h): a value that slipped into a log call (an error message quoting a prompt, a
 * header) is masked before the line is written.
 */
const scrubFields = winston.format((info) => {
  for (const [key, value] of Object.entries(info)) {
    if (typeof value === "string" && key !== "level") info[key] = scrubPii(value);
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
