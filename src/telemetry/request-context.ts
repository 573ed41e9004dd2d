/**
 * Correlation (BASE-OBS-c): each call's request id travels with it through every await via
 * AsyncLocalStorage, so every log line of the call carries it without being passed along.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** What a log line learns about the call it belongs to. */
export interface RequestContext {
  readonly requestId: string;
  readonly method: string;
  /** The caller's identity id, set once authentication has run. */
  identityId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `context` as the current request. */
export function withRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The current request, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

const ACCEPTABLE_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The client's `x-request-id` when it is 1–128 printable ASCII characters without spaces,
 * else a fresh UUID (so ids cannot carry control characters or unbounded data into logs).
 */
export function resolveRequestId(offered: string | null): string {
  return offered !== null && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
}

/**
 * Makes `context` current for the rest of this synchronous run and its continuations (for
 * async generators, which resume in their caller's context after each `yield`).
 */
export function enterRequestContext(context: RequestContext): void {
  storage.enterWith(context);
}
