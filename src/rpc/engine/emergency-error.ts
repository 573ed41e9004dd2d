/**
 * The error engine RPCs fail with while the emergency brake is engaged (REL-001): UNAVAILABLE
 * E701 with the reason and, when automatic recovery is scheduled, RetryInfo until it; E704
 * RECOVERY_FAILED once automatic recovery has given up (only an operator reset helps).
 */
import type { CognitiveController } from "../../core/controller.js";
import { MlsdmError } from "../../telemetry/errors/index.js";

/** The catalogue error for the controller's current emergency. */
export function emergencyError(controller: CognitiveController, now: number): MlsdmError {
  const view = controller.state().emergency;
  const reason = view.reason ?? "unknown";
  const exhausted = reason !== "manual" && view.recoveryAttempts >= view.maxRecoveryAttempts;
  if (exhausted) {
    return new MlsdmError("RECOVERY_FAILED", { detail: view.message, metadata: { reason } });
  }
  const next = view.nextRecoveryAtMs;
  return new MlsdmError("EMERGENCY_SHUTDOWN", {
    detail: view.message,
    metadata: { reason },
    ...(next === undefined ? {} : { retryDelayMs: Math.max(1_000, next - now) }),
  });
}
