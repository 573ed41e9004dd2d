/**
 * Core state → contract messages. The core speaks in monotonic milliseconds and plain
 * strings; the contract in Timestamps and enums. One mapping, used by Engine and Admin.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ControllerState, RejectionReason as CoreRejection } from "../core/controller.js";
import type { EmergencyReason as CoreEmergencyReason, EmergencyView } from "../core/emergency.js";
import type { Phase as CorePhase } from "../core/rhythm.js";
import {
  EmergencyReason,
  Phase,
  RejectionReason,
  type CognitiveStateSchema,
  type EmergencyStateSchema,
} from "../gen/mlsdm/v1/state_pb.js";

/** Converts the core's monotonic clock readings to wall-clock milliseconds. */
export type WallClock = (monotonicMs: number) => number;

/** A WallClock anchored now: wall = Date.now() − (monotonicNow − monotonicMs). */
export function wallClockFrom(monotonic: () => number): WallClock {
  return (monotonicMs) => Date.now() - (monotonic() - monotonicMs);
}

const PHASES: Record<CorePhase, Phase> = { wake: Phase.WAKE, sleep: Phase.SLEEP };

const EMERGENCY_REASONS: Record<CoreEmergencyReason, EmergencyReason> = {
  process_memory_exceeded: EmergencyReason.PROCESS_MEMORY_EXCEEDED,
  memory_limit_exceeded: EmergencyReason.MEMORY_LIMIT_EXCEEDED,
  processing_time_exceeded: EmergencyReason.PROCESSING_TIME_EXCEEDED,
  memory_corruption: EmergencyReason.MEMORY_CORRUPTION,
  manual: EmergencyReason.MANUAL,
};

const REJECTIONS: Record<CoreRejection, RejectionReason> = {
  moral: RejectionReason.MORAL,
  sleep_phase: RejectionReason.SLEEP_PHASE,
  emergency_shutdown: RejectionReason.EMERGENCY_SHUTDOWN,
  process_memory_exceeded: RejectionReason.PROCESS_MEMORY_EXCEEDED,
  processing_time_exceeded: RejectionReason.PROCESSING_TIME_EXCEEDED,
};

/** The contract's Phase for a core phase. */
export function phaseMessage(phase: CorePhase): Phase {
  return PHASES[phase];
}

/** The contract's RejectionReason (UNSPECIFIED when accepted). */
export function rejectionMessage(rejection: CoreRejection | undefined): RejectionReason {
  return rejection === undefined ? RejectionReason.UNSPECIFIED : REJECTIONS[rejection];
}

/** The contract's EmergencyState. */
export function emergencyMessage(
  view: EmergencyView,
  wall: WallClock,
): MessageInitShape<typeof EmergencyStateSchema> {
  return {
    active: view.active,
    reason: view.active && view.reason ? EMERGENCY_REASONS[view.reason] : EmergencyReason.UNSPECIFIED,
    message: view.message,
    recoveryAttempts: view.recoveryAttempts,
    maxRecoveryAttempts: view.maxRecoveryAttempts,
    enteredAt:
      view.active && view.enteredAtMs !== undefined
        ? timestampFromMs(Math.round(wall(view.enteredAtMs)))
        : undefined,
    nextRecoveryAt:
      view.nextRecoveryAtMs !== undefined
        ? timestampFromMs(Math.round(wall(view.nextRecoveryAtMs)))
        : undefined,
  };
}

/** The contract's CognitiveState. */
export function stateMessage(
  state: ControllerState,
  wall: WallClock,
): MessageInitShape<typeof CognitiveStateSchema> {
  return {
    step: BigInt(state.step),
    phase: phaseMessage(state.phase),
    moralThreshold: state.moralThreshold,
    moralEma: state.moralEma,
    synapticNorms: state.norms,
    pelmUsed: state.pelmUsed,
    pelmCapacity: state.pelmCapacity,
    emergency: emergencyMessage(state.emergency, wall),
  };
}
