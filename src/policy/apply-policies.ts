/**
 * Wraps a service implementation so that every call, on either listener, runs the same
 * policy chain, is counted while in flight, and fails only with catalogue errors: anything
 * thrown becomes a `ConnectError` carrying ErrorInfo (unknown exceptions become INTERNAL
 * E700 with nothing leaked). The transports then only translate ConnectErrors to the wire.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, type ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { MlsdmError } from "../telemetry/errors/index.js";
import { grpcStatusName } from "../telemetry/errors/catalogue.js";
import type { RpcMetrics } from "../telemetry/metrics/rpc-metrics.js";
import { logger } from "../telemetry/logger.js";
import {
  enterRequestContext,
  resolveRequestId,
  withRequestContext,
  type RequestContext,
} from "../telemetry/request-context.js";
import { context as otelContext, type Context } from "@opentelemetry/api";
import { startServerSpan, withContext } from "../telemetry/tracing/server-span.js";
import { LISTENER } from "./call-context.js";
import type { InFlightTracker } from "./in-flight.js";
import type { Admission } from "./admission.js";
import type { Policy } from "./policy.js";

/** What the wrapper needs besides the implementation. */
export interface PolicyChainOptions {
  /** Checks run in order before the handler; the first to throw rejects the call. */
  readonly policies: readonly Policy[];
  /** Counts the call while it runs (so shutdown can wait for it). */
  readonly tracker?: InFlightTracker;
  /** Validates the request against the contract after the policies, before the handler. */
  readonly validate?: (method: DescMethod, request: unknown) => void;
  /** RPC metrics: every call is counted by method, code and listener. */
  readonly metrics?: RpcMetrics;
  /** Write one access log line per call (info level). */
  readonly accessLog?: boolean;
  /** Admission (in-flight cap, lag guard, bulkhead slot) after validation; released when the call ends. */
  readonly admit?: Admission;
  /** Called with every error that leaves a handler, before it is sent (for logs). */
  readonly onError?: (error: MlsdmError, context: HandlerContext) => void;
}

type AnyHandler = (request: unknown, context: HandlerContext) => unknown;

async function runPolicies(
  policies: readonly Policy[],
  context: HandlerContext,
  request: unknown,
): Promise<void> {
  for (const policy of policies) {
    const pending = policy(context, request);
    if (pending) await pending;
  }
}

function normalise(
  error: unknown,
  context: HandlerContext,
  options: PolicyChainOptions,
  requestId: string,
): { error: ConnectError; code: string } {
  const mlsdm = MlsdmError.from(error);
  options.onError?.(mlsdm, context);
  return { error: mlsdm.toConnectError({ requestId }), code: mlsdm.entry.code };
}

/** One call's bookkeeping: request id, server span, metrics and the access log line. */
interface CallRecord {
  readonly request: RequestContext;
  /** The trace context holding the call's server span; the handler runs inside it. */
  readonly traceContext: Context;
  /** Records the end of the call with its status (once; later calls are ignored). */
  finish(code: Code | undefined, errorCode?: string): void;
}

/**
 * Starts a call: resolves its request id (echoed in the `x-request-id` response header),
 * counts it in the RPC metrics, and on `finish` writes one access log line.
 */
function startCall(method: DescMethod, context: HandlerContext, options: PolicyChainOptions): CallRecord {
  const path = `/${method.parent.typeName}/${method.name}`;
  const request = { requestId: resolveRequestId(context.requestHeader.get("x-request-id")), method: path };
  context.responseHeader.set("x-request-id", request.requestId);
  const listener = context.values.get(LISTENER);
  const started = performance.now();
  options.metrics?.started(path, listener);
  const span = startServerSpan(
    method.parent.typeName,
    method.name,
    context.requestHeader,
    listener,
    context.protocolName,
  );
  let done = false;
  return {
    request,
    traceContext: span.context,
    finish(code, errorCode) {
      if (done) return;
      done = true;
      const status = code === undefined ? "OK" : grpcStatusName(code);
      span.end({ code: status, numeric: code ?? 0, ...(errorCode === undefined ? {} : { errorCode }) });
      const seconds = (performance.now() - started) / 1000;
      options.metrics?.finished(path, listener, status, seconds);
      if (options.accessLog) {
        logger.info("rpc", {
          event: "rpc",
          request_id: request.requestId,
          method: path,
          listener,
          protocol: context.protocolName,
          code: status,
          duration_ms: Math.round(seconds * 1e6) / 1e3,
          ...(errorCode === undefined ? {} : { error_code: errorCode }),
        });
      }
    },
  };
}

function wrapUnary(method: DescMethod, handler: AnyHandler, options: PolicyChainOptions): AnyHandler {
  return async (request, context) => {
    const done = options.tracker?.start();
    const call = startCall(method, context, options);
    return otelContext.with(call.traceContext, () =>
      withRequestContext(call.request, async () => {
        try {
          await runPolicies(options.policies, context, request);
          options.validate?.(method, request);
          const release = await options.admit?.(method, context);
          try {
            const response = await handler(request, context);
            call.finish(undefined);
            return response;
          } finally {
            release?.();
          }
        } catch (error) {
          const failed = normalise(error, context, options, call.request.requestId);
          call.finish(failed.error.code, failed.code);
          throw failed.error;
        } finally {
          done?.();
        }
      }),
    );
  };
}

function wrapServerStreaming(
  method: DescMethod,
  handler: AnyHandler,
  options: PolicyChainOptions,
): AnyHandler {
  return (request, context) => {
    const call = startCall(method, context, options);
    return withContext(call.traceContext, streamBody(request, context, call));
  };

  async function* streamBody(request: unknown, context: HandlerContext, call: CallRecord): AsyncGenerator {
    const done = options.tracker?.start();
    enterRequestContext(call.request);
    try {
      await runPolicies(options.policies, context, request);
      options.validate?.(method, request);
      const release = await options.admit?.(method, context);
      try {
        for await (const message of handler(request, context) as AsyncIterable<unknown>) {
          yield message;
          enterRequestContext(call.request); // generators resume in their caller's context
        }
        call.finish(undefined);
      } finally {
        release?.();
      }
    } catch (error) {
      const failed = normalise(error, context, options, call.request.requestId);
      call.finish(failed.error.code, failed.code);
      throw failed.error;
    } finally {
      call.finish(Code.Canceled); // a stream the client abandoned; no-op after a result
      done?.();
    }
  }
}

function wrapMethod(method: DescMethod, handler: AnyHandler, options: PolicyChainOptions): AnyHandler {
  switch (method.methodKind) {
    case "unary":
      return wrapUnary(method, handler, options);
    case "server_streaming":
      return wrapServerStreaming(method, handler, options);
    default:
      // Client and bidi streaming are not part of the contract; refuse to mount them silently.
      throw new Error(`${method.parent.typeName}.${method.name}: ${method.methodKind} is not supported`);
  }
}

/** Returns `impl` with every method wrapped by the policy chain. */
export function applyPolicies<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  options: PolicyChainOptions,
): ServiceImpl<S> {
  const handlers = impl as unknown as Record<string, AnyHandler>;
  const wrapped: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const handler = handlers[method.localName];
    if (!handler) throw new Error(`${service.typeName}.${method.name} has no implementation`);
    wrapped[method.localName] = wrapMethod(method, handler.bind(impl), options);
  }
  return wrapped as unknown as ServiceImpl<S>;
}
