/**
 * Helpers for the resilience tests: a ModelCall with defaults, a failure catcher that also
 * measures when the promise settled, a sleep, and a stream reader.
 */
import { performance } from "node:perf_hooks";
import { ProviderFailure, type ModelCall, type ModelStream } from "../../../src/core/engine/ports.js";

export function call(overrides: Partial<ModelCall> = {}): ModelCall {
  return {
    prompt: "hello",
    maxTokens: 32,
    signal: new AbortController().signal,
    deadlineAt: undefined,
    route: { userIntent: "conversational", userId: undefined },
    ...overrides,
  };
}

/** A call whose deadline is `ms` from now on performance.now (the default clock). */
export function callWithin(ms: number, overrides: Partial<ModelCall> = {}): ModelCall {
  return call({ deadlineAt: performance.now() + ms, ...overrides });
}

/** The ProviderFailure a promise rejects with, and how long after `since` it settled. */
export async function failureOf(
  promise: Promise<unknown>,
  since = performance.now(),
): Promise<{ failure: ProviderFailure; elapsedMs: number }> {
  try {
    await promise;
  } catch (error) {
    const elapsedMs = performance.now() - since;
    if (error instanceof ProviderFailure) return { failure: error, elapsedMs };
    throw new Error(`expected a ProviderFailure, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected the promise to reject");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function drain(stream: ModelStream): Promise<string[]> {
  const deltas: string[] = [];
  for await (const delta of stream.deltas) deltas.push(delta);
  return deltas;
}
