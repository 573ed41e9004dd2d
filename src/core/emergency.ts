/**
 * The emergency brake's bookkeeping: why it engaged, when, and whether automatic recovery may
 * release it. Pure and synchronous; the controller owns one and asks it on every event and on
 * every supervisor tick.
 *
 * Fixes the reference's weakness W1 (recovery counted steps while steps could not advance, so
 * it never recovered by itself): here the step cooldown counts the calls refused during the
 * emergency plus supervisor ticks, and a wall-clock cooldown runs beside it, so an idle
 * service recovers after max(cooldown, cooldownSteps ticks) and a busy one after the cooldown.
 */

/** Why the engine is in emergency shutdown. */
export type EmergencyReason =
  | "process_memory_exceeded"
  | "memory_limit_exceeded"
  | "processing_time_exceeded"
  | "memory_corruption"
  | "manual";

/** Recovery policy (REL-001). */
export interface RecoveryOptions {
  /** Automatic recovery on (manual reset always works). */
  readonly enabled: boolean;
  /** Minimum time in emergency before an automatic recovery, milliseconds. */
  readonly cooldownMs: number;
  /** Minimum refused calls or supervisor ticks in emergency before an automatic recovery. */
  readonly cooldownSteps: number;
  /** Memory must be below this fraction of the limit before recovering (memory reasons only). */
  readonly memorySafetyRatio: number;
  /** Automatic recoveries allowed before only an operator reset helps. */
  readonly maxAttempts: number;
  /** After this long without an emergency, the attempt counter starts again from zero. */
  readonly healthyResetMs: number;
}

/** Defaults from production.md REL-001 and core.md §5 (60 s, 10 steps, 0.8, 3 attempts). */
export const RECOVERY_DEFAULTS: RecoveryOptions = {
  enabled: true,
  cooldownMs: 60_000,
  cooldownSteps: 10,
  memorySafetyRatio: 0.8,
  maxAttempts: 3,
  healthyResetMs: 600_000,
};

/** What an observer sees of the brake. */
export interface EmergencyView {
  readonly active: boolean;
  readonly reason: EmergencyReason | undefined;
  readonly message: string;
  /** Automatic recoveries used since the last healthy period or operator reset. */
  readonly recoveryAttempts: number;
  readonly maxRecoveryAttempts: number;
  /** Emergencies engaged since this process started (not snapshotted: a process counter). */
  readonly totalShutdowns: number;
  /** Automatic recoveries since this process started. */
  readonly totalAutoRecoveries: number;
  /** Clock time the current (or last) emergency began, or undefined if there was none. */
  readonly enteredAtMs: number | undefined;
  /** Earliest clock time an automatic recovery may happen; undefined when none will. */
  readonly nextRecoveryAtMs: number | undefined;
}

/** Result of a recovery check. */
export type RecoveryCheck =
  | { readonly recovered: true }
  | { readonly recovered: false; readonly why: string; readonly exhausted: boolean };

/** The brake's state machine. */
export class EmergencyBrake {
  private activeReason: EmergencyReason | undefined;
  private lastReason: EmergencyReason | undefined;
  private reasonMessage = "";
  private enteredAt: number | undefined;
  private leftAt: number | undefined;
  private stepsInEmergency = 0;
  private attempts = 0;
  private shutdowns = 0;
  private autoRecoveries = 0;

  constructor(readonly options: RecoveryOptions = RECOVERY_DEFAULTS) {}

  /** True while engaged. */
  get active(): boolean {
    return this.activeReason !== undefined;
  }

  /** Engages the brake (no-op if already engaged: the first reason is kept). */
  engage(reason: EmergencyReason, message: string, now: number): void {
    if (this.activeReason !== undefined) return;
    if (this.leftAt !== undefined && now - this.leftAt >= this.options.healthyResetMs) this.attempts = 0;
    this.activeReason = reason;
    this.lastReason = reason;
    this.reasonMessage = message;
    this.enteredAt = now;
    this.stepsInEmergency = 0;
    this.shutdowns += 1;
  }

  /** Counts one refused call or supervisor tick towards the step cooldown. */
  countStep(): void {
    if (this.activeReason !== undefined) this.stepsInEmergency += 1;
  }

  /** Whether an automatic recovery could ever happen for the current emergency. */
  private exhausted(): boolean {
    return (
      !this.options.enabled || this.activeReason === "manual" || this.attempts >= this.options.maxAttempts
    );
  }

  /**
   * Tries an automatic recovery: all of time cooldown, step cooldown and memory margin must
   * hold. `memoryFraction` is current memory use divided by the limit.
   */
  tryRecover(now: number, memoryFraction: number): RecoveryCheck {
    if (this.activeReason === undefined) return { recovered: true };
    if (this.exhausted()) {
      return { recovered: false, why: "automatic recovery exhausted or disabled", exhausted: true };
    }
    const enteredAt = this.enteredAt ?? now;
    if (now - enteredAt < this.options.cooldownMs) {
      return { recovered: false, why: "cooldown running", exhausted: false };
    }
    if (this.stepsInEmergency < this.options.cooldownSteps) {
      return { recovered: false, why: "step cooldown running", exhausted: false };
    }
    const memoryReason =
      this.activeReason === "process_memory_exceeded" || this.activeReason === "memory_limit_exceeded";
    if (memoryReason && memoryFraction > this.options.memorySafetyRatio) {
      return { recovered: false, why: "memory still above the safety margin", exhausted: false };
    }
    this.attempts += 1;
    this.autoRecoveries += 1;
    this.release(now);
    return { recovered: true };
  }

  /** Operator reset: releases the brake and clears the attempt counter. Idempotent. */
  reset(now: number): boolean {
    const wasActive = this.activeReason !== undefined;
    if (wasActive) this.release(now);
    this.attempts = 0;
    return wasActive;
  }

  private release(now: number): void {
    this.activeReason = undefined;
    this.leftAt = now;
    this.stepsInEmergency = 0;
  }

  /** A read-only view for state reports. */
  view(): EmergencyView {
    const active = this.activeReason !== undefined;
    const nextRecoveryAtMs =
      active && !this.exhausted() && this.enteredAt !== undefined
        ? this.enteredAt + this.options.cooldownMs
        : undefined;
    return {
      active,
      reason: active ? this.activeReason : this.lastReason,
      message: active ? this.reasonMessage : "",
      recoveryAttempts: this.attempts,
      maxRecoveryAttempts: this.options.maxAttempts,
      totalShutdowns: this.shutdowns,
      totalAutoRecoveries: this.autoRecoveries,
      enteredAtMs: this.enteredAt,
      nextRecoveryAtMs,
    };
  }

  /** Internal fields for snapshots (clock values are relative to the snapshot's clock). */
  exportState(): {
    reason: EmergencyReason | undefined;
    lastReason: EmergencyReason | undefined;
    message: string;
    enteredAt: number | undefined;
    leftAt: number | undefined;
    steps: number;
    attempts: number;
  } {
    return {
      reason: this.activeReason,
      lastReason: this.lastReason,
      message: this.reasonMessage,
      enteredAt: this.enteredAt,
      leftAt: this.leftAt,
      steps: this.stepsInEmergency,
      attempts: this.attempts,
    };
  }

  /** Restores what `exportState` returned. */
  importState(state: ReturnType<EmergencyBrake["exportState"]>): void {
    this.activeReason = state.reason;
    this.lastReason = state.lastReason;
    this.reasonMessage = state.message;
    this.enteredAt = state.enteredAt;
    this.leftAt = state.leftAt;
    this.stepsInEmergency = state.steps;
    this.attempts = state.attempts;
  }
}
