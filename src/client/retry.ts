/**
 * The retry interceptor: a call is retried only when the server answered with `RetryInfo`
 * (MLSDM sends it exactly for retryable catalogue codes: rate limits, sleep phase, provider
 * outages, ...), after at least the delay it names, with jittered exponential backoff, within
 * the call's overall deadline and a bounded number of attempts. Any other failure (a bad
 * argument, a denied permission, a connection that could not be made) is returned at once.
 *
 * Unary calls are retried as a whole; a server stream only until its first message arrives,
 * so no message is ever delivered twice. Signing (inside this interceptor) signs each attempt
 * afresh, so a retry is never refused as a replay.
 */
import { ConnectError, Code, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { callState, type CallState } from "./call-state.js";

/** How retries are paced. */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 4). */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt; doubles each time (default 100 ms). */
  readonly baseDelayMs?: number;
  /** Backoff cap (default 10 s); the server's RetryInfo delay is honoured even above it. */
  readonly maxDelayMs?: number;
  /** Random source in [0, 1) for the jitter (tests pass a fixed one). */
  readonly random?: () => number;
  /**
   * Start each attempt in a later whole second than the one before (set when requests are
   * signed: a signature covers the second, so a retry inside it would be refused as a replay).
   */
  readonly newSecondPerAttempt?: boolean;
}

/** The server's RetryInfo delay in ms, or undefined when it did not send RetryInfo. */
export function retryInfoDelayMs(error: unknown): number | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  const info = error.findDetails(RetryInfoSchema)[0];
  if (info === undefined) return undefined;
  const delay = info.retryDelay;
  return delay === undefined ? 0 : Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6);
}

/**
 * The wait before attempt `attempt + 1`: the jittered backoff (between half and all of
 * `base * 2^(attempt-1)`, capped), but never less than the server's delay (plus up to 10 %).
 */
export function retryWaitMs(attempt: number, serverDelayMs: number, policy: RetryPolicy = {}): number {
  const random = policy.random ?? Math.random;
  const exponential = Math.min(policy.maxDelayMs ?? 10_000, (policy.baseDelayMs ?? 100) * 2 ** (attempt - 1));
  const backoff = exponential * (0.5 + random() * 0.5);
  return Math.ceil(Math.max(backoff, serverDelayMs * (1 + random() * 0.1)));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits before the next attempt, or rethrows `error` when no retry is allowed. */
async function pauseOrThrow(
  error: unknown,
  state: CallState,
  signal: AbortSignal,
  policy: RetryPolicy,
): Promise<void> {
  const serverDelay = retryInfoDelayMs(error);
  const cancelled = error instanceof ConnectError && error.code === Code.Canceled;
  if (serverDelay === undefined || cancelled || signal.aborted) throw error;
  if (state.attempts >= (policy.maxAttempts ?? 4)) throw error;
  let wait = retryWaitMs(state.attempts, serverDelay, policy);
  if (policy.newSecondPerAttempt === true && state.attemptStartedAtMs !== undefined) {
    const nextSecondAtMs = (Math.floor(state.attemptStartedAtMs / 1000) + 1) * 1000;
    wait = Math.max(wait, nextSecondAtMs - Date.now() + 1);
  }
  if (state.deadlineAtMs !== undefined && Date.now() + wait >= state.deadlineAtMs) throw error;
  await sleep(wait, signal);
}

/** Retries calls the server said to retry; see the module comment. */
export function retryInterceptor(policy: RetryPolicy = {}): Interceptor {
  return (next) => async (req) => {
    const state = callState(req.contextValues);
    if (!req.stream) {
      for (;;) {
        state.attempts += 1;
        state.attemptStartedAtMs = Date.now();
        try {
          return await next(req);
        } catch (error) {
          await pauseOrThrow(error, state, req.signal, policy);
        }
      }
    }
    if (req.method.methodKind !== "server_streaming") {
      state.attempts += 1;
      return next(req);
    }
    const messages: unknown[] = [];
    for await (const message of req.message) messages.push(message);
    for (;;) {
      state.attempts += 1;
      state.attemptStartedAtMs = Date.now();
      try {
        const res = (await next({
          ...req,
          message: createAsyncIterable(messages) as typeof req.message,
        })) as StreamResponse;
        const iterator = res.message[Symbol.asyncIterator]();
        const first = await iterator.next();
        async function* replay() {
          if (first.done === true) return;
          yield first.value;
          for (let item = await iterator.next(); item.done !== true; item = await iterator.next()) {
            yield item.value;
          }
        }
        return { ...res, message: replay() } satisfies StreamResponse;
      } catch (error) {
        await pauseOrThrow(error, state, req.signal, policy);
      }
    }
  };
}
