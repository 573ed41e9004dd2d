/**
 * Drives the controller's emergency brake from outside the core (the core has no timers):
 * ticks it about once a second so recovery happens even without traffic, and reports every
 * change of the emergency state so health can follow (NOT_SERVING while engaged).
 */
import type { CognitiveController } from "../../core/controller.js";
import { logger } from "../../telemetry/logger.js";

/** Starts the supervisor; the returned function stops it. */
export function superviseEmergency(
  controller: CognitiveController,
  onChange: (active: boolean) => void,
  intervalMs = 1000,
): { stop: () => void; check: () => void } {
  let active = controller.emergencyActive;
  const check = (): void => {
    // Runs after every call: only the brake's flag, not the full state (norms of three levels).
    if (controller.emergencyActive === active) return;
    const view = controller.emergencyView();
    active = view.active;
    if (active) {
      logger.warn("emergency shutdown", {
        event: "emergency_shutdown",
        error_code: "E701",
        reason: view.reason,
        attempt: view.recoveryAttempts,
      });
    } else {
      logger.info("emergency cleared", {
        event: "auto_recovery",
        reason: view.reason,
        attempt: view.recoveryAttempts,
      });
    }
    onChange(active);
  };
  const timer = setInterval(() => {
    controller.tick();
    check();
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
    },
    check,
  };
}
