/**
 * Starts OpenTelemetry tracing from the standard `OTEL_*` variables (docs/adr/0012-tracing.md).
 *
 * Off by default: unless `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`) no SDK is
 * loaded, the API stays a no-op and tracing costs nothing. `OTEL_SDK_DISABLED=true` forces it
 * off. When on, the tracer provider registers the W3C trace-context propagator and an
 * AsyncLocalStorage context manager; the sampler (`OTEL_TRACES_SAMPLER`, `_ARG`) and the OTLP
 * endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, `..._TRACES_ENDPOINT`, headers) are read by the SDK
 * from the environment as the specification says. Tests pass their own span processors. Every
 * span's string attributes are scrubbed of personal data before any processor exports it.
 */
import { trace } from "@opentelemetry/api";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ScrubbingSpanProcessor } from "./scrub-processor.js";

/** A running (or disabled) tracer provider. */
export interface TracingHandle {
  readonly enabled: boolean;
  /** The exporters in use ("otlp", "console", "custom"); empty when disabled. */
  readonly exporters: readonly string[];
  /** Flushes pending spans and stops the provider. */
  shutdown(): Promise<void>;
}

const DISABLED: TracingHandle = { enabled: false, exporters: [], shutdown: () => Promise.resolve() };

/** Longest wait for pending spans at shutdown, ms. */
export const SHUTDOWN_TIMEOUT_MS = 2_000;

/** Exporter names accepted in OTEL_TRACES_EXPORTER. */
export const TRACE_EXPORTERS = ["otlp", "console", "none"] as const;

/** Thrown when OTEL_TRACES_EXPORTER names an exporter this server does not ship. */
export class TracingConfigError extends Error {
  override readonly name = "TracingConfigError";
}

/** The exporters named by OTEL_TRACES_EXPORTER (comma-separated), "none" dropped. */
export function tracesExporters(env: NodeJS.ProcessEnv): string[] {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return [];
  const names = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const unknown = names.filter((name) => !(TRACE_EXPORTERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new TracingConfigError(
      `OTEL_TRACES_EXPORTER: unsupported exporter(s) ${unknown.join(", ")}; use otlp, console or none`,
    );
  }
  return names.includes("none") ? [] : [...new Set(names)];
}

/**
 * Starts tracing. `spanProcessors` (tests) replace the exporters named by the environment.
 * The SDK is imported only when tracing is on.
 */
export async function startTracing(
  options: { env?: NodeJS.ProcessEnv; spanProcessors?: SpanProcessor[]; serviceVersion?: string } = {},
): Promise<TracingHandle> {
  const env = options.env ?? process.env;
  const exporters = options.spanProcessors ? ["custom"] : tracesExporters(env);
  if (exporters.length === 0) return DISABLED;
  const [{ NodeTracerProvider }, base, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
  ]);
  // Scrubbing comes first, so every exporter (and a test's processor) sees masked attributes.
  const processors: SpanProcessor[] = [new ScrubbingSpanProcessor(), ...(options.spanProcessors ?? [])];
  if (!options.spanProcessors) {
    for (const name of exporters) {
      if (name === "console") processors.push(new base.SimpleSpanProcessor(new base.ConsoleSpanExporter()));
      if (name === "otlp") {
        const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
        processors.push(new base.BatchSpanProcessor(new OTLPTraceExporter()));
      }
    }
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME ?? "mlsdm",
      ...(options.serviceVersion ? { "service.version": options.serviceVersion } : {}),
    }),
    spanProcessors: processors,
  });
  provider.register();
  return {
    enabled: true,
    exporters,
    async shutdown() {
      // Flush what we can, but never let an unreachable collector hold up the process exit.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      trace.disable();
    },
  };
}
