/**
 * The engine's PipelineTracer port on OpenTelemetry: one child span per pipeline stage under
 * the active (server) span. Attributes carry codes, counts and sizes set by the stages; a
 * failure is recorded as an exception and rethrown. Structurally the core port, defined here
 * so telemetry depends on no other layer.
 */
import { SpanStatusCode, context, trace } from "@opentelemetry/api";
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
          return await run({ set: (key, value) => span.setAttribute(key, value) });
        } catch (error) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      });
    },
  };
}
