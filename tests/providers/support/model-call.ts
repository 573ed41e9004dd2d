/**
 * Helpers for provider tests: a ModelCall with sensible defaults, draining a stream, and timing a promise
 * that is expected to fail.
 */
import { performance } from "node:perf_hooks";
import { ProviderFailure, type ModelCall, type ModelStream } from "../../../src/core/engine/ports.js";

export function modelCall(overrides: Partial<ModelCall> = {}): ModelCall {
  return {
    prompt: "Tell me about synaptic memory.",
    maxTokens: 64,
    signal: new AbortController().signal,
    deadlineAt: undefined,
    route: { userIntent: "conversational", userId: undefined },
    ...overrides,
  };
}

/** Reads every delta of a stream. */
export async function drain(stream: ModelStream): Promise<string[]> {
  const deltas: string[] = [];
  for await (const delta of stream.deltas) deltas.push(delta);
  return deltas;
}

/** Awaits a promise that must reject with a ProviderFailure; returns it with the time it took to settle. */
export async function failureOf(
  promise: Promise<unknown>,
): Promise<{ failure: ProviderFailure; settledAt: number }> {
  try {
    await promise;
  } catch (error) {
    const settledAt = performance.now();
    if (error instanceof ProviderFailure) return { failure: error, settledAt };
    throw new Error(`expected a ProviderFailure, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected the promise to reject");
}

/** Rejects after `ms` (to bound waits on the server's view of a connection). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not happen within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}
