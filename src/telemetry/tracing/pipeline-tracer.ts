/**
 * The engine's PipelineTracer port on OpenTelemetry: one child span per pipeline stage under
 * the active (server) span. Attributes carry codes, counts and sizes set by the stages (string
 * values scrubbed of personal data); a failure is recorded as an exception (message scrubbed)
 * and rethrown. Structurally the core port, defined here
 * so telemetry depends on no other layer.
 */
import { SpanStatusCode, context, trace } from "@opentelemetry/api";
import { scrubPii } from "../pii/index.js";
import { tracer } from "./server-span.js";

/** The attribute setter a stage sees. */
export interface StageSpanLike {
  set(key: string, value: string | number | boolean): void;
}

/** Matches `PipelineTracer` in src/core/engine/ports.ts. */
export interface PipelineTracerLike {
  span<T>(name: string, run: (span: StageSpanLike) => Promise<T> | T): Promise<T>;
}

/** A tracer that creates real spans when tracing is on (the API is a no-op otherwise). */
export function createOtelPipelineTracer(): PipelineTracerLike {
  return {
    span: <T>(name: string, run: (span: StageSpanLike) => Promise<T> | T): Promise<T> => {
      if (!trace.getSpan(context.active())?.isRecording()) {
        return Promise.resolve(run({ set: () => undefined }));
      }
      return tracer.startActiveSpan(name, async (span) => {
        try {
          return await run({
            set: (key, value) => span.setAttribute(key, typeof value === "string" ? scrubPii(value) : value),
          });
        } catch (error) {
          // The exception's message may quote request text: record a scrubbed copy.
          span.recordException(
            error instanceof Error
              ? {
                  name: error.name,
                  message: scrubPii(error.message),
                  ...(error.stack === undefined ? {} : { stack: scrubPii(error.stack) }),
                }
              : scrubPii(String(error)),
          );
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      });
    },
  };
}
