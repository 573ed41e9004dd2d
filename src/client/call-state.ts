/**
 * What the client's interceptors share about one call: its overall deadline, the request id
 * they sent, and how many attempts were made. `createMlsdmClient` puts a fresh state in each
 * call's context values; the interceptors read and update it.
 */
import { createContextKey, type ContextValues } from "@connectrpc/connect";

/** The mutable state of one call. */
export interface CallState {
  /** Absolute deadline (ms since the epoch) over all attempts, if any. */
  deadlineAtMs: number | undefined;
  /** The `x-request-id` sent (the same on every attempt). */
  requestId: string | undefined;
  /** Attempts started so far. */
  attempts: number;
  /** When the latest attempt started (ms since the epoch). */
  attemptStartedAtMs?: number;
}

/** The context key of the call state. */
export const callStateKey = createContextKey<CallState | undefined>(undefined, {
  description: "mlsdm call state",
});

/** The call state in `values`, creating one when absent. */
export function callState(values: ContextValues): CallState {
  let state = values.get(callStateKey);
  if (state === undefined) {
    state = { deadlineAtMs: undefined, requestId: undefined, attempts: 0 };
    values.set(callStateKey, state);
  }
  return state;
}
