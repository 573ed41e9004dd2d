/**
 * Refuses new calls while the server drains after SIGTERM/SIGINT: in-flight calls finish,
 * new ones get UNAVAILABLE (E705 SHUTTING_DOWN) with a retry hint, so clients go elsewhere.
 */
import { MlsdmError } from "../telemetry/errors/index.js";
import type { Policy } from "./policy.js";

/** Whether the process is draining; owned by the lifecycle. */
export interface DrainState {
  readonly draining: boolean;
}

/** The drain guard policy over `state`. */
export function drainGuard(state: DrainState): Policy {
  return () => {
    if (state.draining) throw new MlsdmError("SHUTTING_DOWN");
  };
}
