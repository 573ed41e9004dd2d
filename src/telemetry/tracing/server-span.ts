/**
 * The server span of one RPC, started identically on both listeners from the request headers
 * (gRPC metadata and HTTP headers both reach the policy chain as a Headers object): the W3C
 * `traceparent`/`tracestate` of the caller become the parent. Attributes follow the OpenTelemetry
 * RPC conventions plus the listener and the catalogue error code; never request content.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";

const HEADERS_GETTER: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

/** The tracer every MLSDM span comes from. */
export const tracer = trace.getTracer("mlsdm");

/** A started server span and the context that carries it. */
export interface ServerSpan {
  readonly span: Span;
  readonly context: Context;
  /** Ends the span with the gRPC status name and, for an error, its catalogue code. */
  end(status: { code: string; numeric: number; errorCode?: string }): void;
}

/** Starts the server span of `service/method` with the caller's trace context as parent. */
export function startServerSpan(
  service: string,
  method: string,
  headers: Headers,
  listener: string,
  protocol: string,
): ServerSpan {
  const parent = propagation.extract(ROOT_CONTEXT, headers, HEADERS_GETTER);
  const span = tracer.startSpan(
    `${service}/${method}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": service,
        "rpc.method": method,
        "mlsdm.listener": listener,
        "mlsdm.protocol": protocol,
      },
    },
    parent,
  );
  let ended = false;
  return {
    span,
    context: trace.setSpan(parent, span),
    end(status) {
      if (ended) return;
      ended = true;
      span.setAttribute("rpc.grpc.status_code", status.numeric);
      if (status.errorCode !== undefined) {
        span.setAttribute("mlsdm.error_code", status.errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR, message: status.code });
      }
      span.end();
    },
  };
}

/** Runs each step of `source` inside `ctx` (async generators resume in their caller's context). */
export async function* withContext<T>(ctx: Context, source: AsyncGenerator<T>): AsyncGenerator<T> {
  for (;;) {
    const step = await context.with(ctx, () => source.next());
    if (step.done) return;
    yield step.value;
  }
}

/** The active span's trace and span ids, for log lines; undefined outside a sampled span. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}

/** The W3C trace headers of the active context, for outbound HTTP calls (model providers). */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
