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
import { LISTENER } from "./call-context.js";
import type { InFlightTracker } from "./in-flight.js";
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
  /** Called with every error that leaves a handler, before it is sent (for logs). */
  readonly onError?: (error: MlsdmError, context: HandlerContext) => void;
}

type AnyHandler = (request: unknown, context: HandlerContext) => unknown;

async function runPolicies(policies: readonly Policy[], context: HandlerContext): Promise<void> {
  for (const policy of policies) {
    const pending = policy(context);
    if (pending) await pending;
  }
}

function normalise(error: unknown, context: HandlerContext, options: PolicyChainOptions): ConnectError {
  const mlsdm = MlsdmError.from(error);
  options.onError?.(mlsdm, context);
  return mlsdm.toConnectError({ requestId: context.requestHeader.get("x-request-id") ?? undefined });
}

/**
 * Starts the metrics for one call; the returned function records its end with a status
 * (once: later calls are ignored, so `finally` can record a cancelled stream).
 */
function observe(method: DescMethod, context: HandlerContext, metrics: RpcMetrics | undefined) {
  if (!metrics) return (_code: Code | undefined): void => undefined;
  const path = `/${method.parent.typeName}/${method.name}`;
  const listener = context.values.get(LISTENER);
  const started = performance.now();
  metrics.started(path, listener);
  let done = false;
  return (code: Code | undefined): void => {
    if (done) return;
    done = true;
    metrics.finished(
      path,
      listener,
      code === undefined ? "OK" : grpcStatusName(code),
      (performance.now() - started) / 1000,
    );
  };
}

function wrapUnary(method: DescMethod, handler: AnyHandler, options: PolicyChainOptions): AnyHandler {
  return async (request, context) => {
    const done = options.tracker?.start();
    const finish = observe(method, context, options.metrics);
    try {
      await runPolicies(options.policies, context);
      options.validate?.(method, request);
      const response = await handler(request, context);
      finish(undefined);
      return response;
    } catch (error) {
      const connectError = normalise(error, context, options);
      finish(connectError.code);
      throw connectError;
    } finally {
      finish(Code.Canceled); // a stream the client abandoned; no-op after a result
      done?.();
    }
  };
}

function wrapServerStreaming(
  method: DescMethod,
  handler: AnyHandler,
  options: PolicyChainOptions,
): AnyHandler {
  return async function* (request, context) {
    const done = options.tracker?.start();
    const finish = observe(method, context, options.metrics);
    try {
      await runPolicies(options.policies, context);
      options.validate?.(method, request);
      yield* handler(request, context) as AsyncIterable<unknown>;
      finish(undefined);
    } catch (error) {
      const connectError = normalise(error, context, options);
      finish(connectError.code);
      throw connectError;
    } finally {
      finish(Code.Canceled); // a stream the client abandoned; no-op after a result
      done?.();
    }
  };
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
