/**
 * AdminService, the operator's door: status, the emergency brake, the moral threshold,
 * snapshots (snapshot-handlers.ts) and API keys (api-key-handlers.ts). Every action is logged as
 * an audit event with the caller-supplied reason.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { CognitiveController } from "../../core/controller.js";
import { AdminService, BreakerState, ServingStatus } from "../../gen/mlsdm/v1/admin_pb.js";
import { logger } from "../../telemetry/logger.js";
import { notImplementedService } from "../not-implemented.js";
import type { DurableState } from "../../store/durable-state.js";
import { snapshotHandlers } from "./snapshot-handlers.js";
import { snapshotTransferHandlers } from "./snapshot-transfer.js";
import type { ApiKeyManager } from "../../policy/api-key-manager.js";
import { apiKeyHandlers } from "./api-key-handlers.js";
import { emergencyMessage, stateMessage, type WallClock } from "../state-message.js";

/** What the Admin service reads besides the controller. */
export interface AdminContext {
  readonly controller: CognitiveController;
  readonly wall: WallClock;
  readonly version: string;
  readonly startedAtMs: number;
  /** Whether the server is draining (shutdown in progress). */
  readonly draining: () => boolean;
  /** Effective configuration as flat key → value strings, secrets masked. */
  readonly configSummary: () => Record<string, string>;
  /** Called after every change of the emergency state (health follows it). */
  readonly onEmergencyChange: () => void;
  /** The durable state (undefined with MLSDM_STATE=memory). */
  readonly durable?: DurableState | undefined;
  /** Largest snapshot ImportSnapshot accepts, in bytes (state.maxImportMb). */
  readonly maxImportBytes: number;
  /** The model providers and their breakers, in routing order. */
  readonly providers: () => readonly { id: string; breaker: "closed" | "open" | "half_open" }[];
  /** The accepted API keys (undefined: the key RPCs answer NOT_IMPLEMENTED). */
  readonly keys?: ApiKeyManager | undefined;
}

const BREAKER_STATES = {
  closed: BreakerState.CLOSED,
  open: BreakerState.OPEN,
  half_open: BreakerState.HALF_OPEN,
} as const;

function audit(action: string, fields: Record<string, unknown>): void {
  logger.info("admin action", { event: "admin_action", action, ...fields });
}

/** Builds the Admin implementation. */
export function createAdminService(context: AdminContext): ServiceImpl<typeof AdminService> {
  const { controller, wall } = context;
  return {
    ...notImplementedService(AdminService),
    ...snapshotHandlers(context.durable, context.onEmergencyChange),
    ...snapshotTransferHandlers(context.durable, context.maxImportBytes),
    ...(context.keys ? apiKeyHandlers(context.keys) : {}),
    getStatus() {
      const state = controller.state();
      const servingStatus = context.draining()
        ? ServingStatus.DRAINING
        : state.emergency.active
          ? ServingStatus.EMERGENCY_SHUTDOWN
          : ServingStatus.SERVING;
      return {
        version: context.version,
        uptimeSeconds: (Date.now() - context.startedAtMs) / 1000,
        startedAt: timestampFromMs(context.startedAtMs),
        servingStatus,
        state: stateMessage(state, wall),
        config: context.configSummary(),
        providers: context.providers().map((p) => ({ id: p.id, breaker: BREAKER_STATES[p.breaker] })),
      };
    },
    triggerEmergencyShutdown(request) {
      const alreadyActive = controller.state().emergency.active;
      const view = controller.triggerEmergency(request.reason);
      audit("trigger_emergency_shutdown", { reason: request.reason, already_active: alreadyActive });
      context.onEmergencyChange();
      return { emergency: emergencyMessage(view, wall), alreadyActive };
    },
    resetEmergency(request) {
      const previous = controller.state().emergency;
      const { wasActive, emergency } = controller.resetEmergency();
      audit("reset_emergency", { reason: request.reason, was_active: wasActive });
      context.onEmergencyChange();
      return {
        wasActive,
        previous: emergencyMessage(previous, wall),
        emergency: emergencyMessage(emergency, wall),
      };
    },
    setMoralThreshold(request) {
      const { previous, current } = controller.setMoralThreshold(request.threshold);
      audit("set_moral_threshold", { reason: request.reason, previous, threshold: current });
      return { previousThreshold: previous, threshold: current };
    },
  };
}
