/**
 * Wraps a service implementation so that every call, on either listener, runs the same
 * policy chain, is counted while in flight, and fails only with catalogue errors: anything
 * thrown becomes a `ConnectError` carrying ErrorInfo (unknown exceptions become INTERNAL
 * E700 with nothing leaked). The transports then only translate ConnectErrors to the wire.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { MlsdmError } from "../telemetry/errors/index.js";
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

function normalise(error: unknown, context: HandlerContext, options: PolicyChainOptions): never {
  const mlsdm = MlsdmError.from(error);
  options.onError?.(mlsdm, context);
  throw mlsdm.toConnectError({ requestId: context.requestHeader.get("x-request-id") ?? undefined });
}

function wrapUnary(method: DescMethod, handler: AnyHandler, options: PolicyChainOptions): AnyHandler {
  return async (request, context) => {
    const done = options.tracker?.start();
    try {
      await runPolicies(options.policies, context);
      options.validate?.(method, request);
      return await handler(request, context);
    } catch (error) {
      return normalise(error, context, options);
    } finally {
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
    try {
      await runPolicies(options.policies, context);
      options.validate?.(method, request);
      yield* handler(request, context) as AsyncIterable<unknown>;
    } catch (error) {
      normalise(error, context, options);
    } finally {
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
