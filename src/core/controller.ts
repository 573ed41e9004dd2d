/**
 * The cognitive controller: one moral filter, one rhythm, one synaptic memory and one PELM,
 * driven event by event in the order of core.md §5 with the reference's weaknesses fixed.
 *
 * Every public method is synchronous, so a state transition never spans an `await`: on
 * Node's single thread no other call can interleave with one (no lost updates, BASE-REL-a).
 *
 * Order of `processEvent` (differences from the reference in brackets):
 * 1. In emergency: try automatic recovery; if still engaged, refuse with no state change
 *    [the refusal counts towards the step cooldown, W1].
 * 2. step += 1; sample process memory; over the limit → emergency, refuse.
 * 3. Sleep phase → refuse [the rhythm still steps, so sleep always ends, W2; the moral filter
 *    neither evaluates nor adapts on refused events, W3].
 * 4. Moral evaluate + adapt; rejected → refuse (the rhythm steps).
 * 5. Processing-time budget checked BEFORE any memory write [W4]; over budget → refuse, and
 *    after `overrunsForEmergency` consecutive overruns → emergency.
 * 6. Synaptic update, PELM entangle at the wake phase value, rhythm step → accepted.
 * The store's own size is fixed at construction and checked against its bound there [W5].
 */
import { BinaryReader, BinaryWriter, SnapshotFormatError } from "./binary.js";
import { ContextTexts } from "./context-texts.js";
import {
  EmergencyBrake,
  RECOVERY_DEFAULTS,
  type EmergencyReason,
  type EmergencyView,
  type RecoveryOptions,
} from "./emergency.js";
import { MoralFilter, type MoralFilterOptions } from "./moral-filter.js";
import { Pelm, type PelmMatch } from "./pelm.js";
import type { Clock, MemoryProbe, ParallelScan } from "./ports.js";
import { CognitiveRhythm, PHASE_VALUES, type Phase, type RhythmOptions } from "./rhythm.js";
import { SynapticMemory, type SynapticOptions } from "./synaptic-memory.js";

/** Why an event was not accepted (machine-readable; mirrors mlsdm.v1.RejectionReason). */
export type RejectionReason =
  "moral" | "sleep_phase" | "emergency_shutdown" | "process_memory_exceeded" | "processing_time_exceeded";

/** Controller limits (core.md §5; production.md BASE-REL-b/c). */
export interface ControllerLimits {
  /** Budget for one event, milliseconds; checked before memory is written. */
  readonly maxProcessingTimeMs: number;
  /** Consecutive over-budget events that engage the emergency brake. */
  readonly overrunsForEmergency: number;
  /** Process resident memory above which the brake engages, bytes. */
  readonly rssLimitBytes: number;
  /** V8 heap in use above which the brake engages, bytes (Infinity: no heap limit). */
  readonly heapLimitBytes: number;
  /** Upper bound for the cognitive store's own bytes; construction fails above it. */
  readonly maxStoreBytes: number;
}

/** Defaults: 1 s per event, 3 overruns, 1,400 MiB process memory, 1.4 GiB store (core.md §5). */
export const CONTROLLER_LIMITS_DEFAULTS: ControllerLimits = {
  maxProcessingTimeMs: 1000,
  overrunsForEmergency: 3,
  rssLimitBytes: 1400 * 2 ** 20,
  heapLimitBytes: Number.POSITIVE_INFINITY,
  maxStoreBytes: Math.trunc(1.4 * 2 ** 30),
};

/** Everything the controller is built from. */
export interface ControllerOptions {
  readonly dimension: number;
  readonly pelmCapacity: number;
  readonly phaseTolerance: number;
  readonly moral?: Partial<MoralFilterOptions>;
  readonly rhythm?: Partial<RhythmOptions>;
  readonly synaptic?: Partial<Omit<SynapticOptions, "dimension">>;
  readonly limits?: Partial<ControllerLimits>;
  readonly recovery?: Partial<RecoveryOptions>;
  readonly clock: Clock;
  readonly memory: MemoryProbe;
  /** Helper threads for large PELM scans (ADR 0021); without them PELM scans on the caller's thread. */
  readonly parallelScan?: ParallelScan;
}

/** The controller's state as reported by GetState and every ProcessEvent. */
export interface ControllerState {
  readonly step: number;
  readonly phase: Phase;
  readonly moralThreshold: number;
  readonly moralEma: number;
  readonly norms: { readonly l1: number; readonly l2: number; readonly l3: number };
  readonly pelmUsed: number;
  readonly pelmCapacity: number;
  readonly emergency: EmergencyView;
}

/** Outcome of one event. */
export interface EventOutcome {
  readonly accepted: boolean;
  /** Set exactly when `accepted` is false. */
  readonly rejection: RejectionReason | undefined;
  /** Human-readable note ("processed", "morally rejected", ...). */
  readonly note: string;
  /** Whether this call wrote to synaptic memory and PELM (only accepted events do). */
  readonly memoryUpdated: boolean;
  readonly processingMs: number;
  readonly state: ControllerState;
}

/** Version 2 adds the text store (TEXT section) after the PELM; version 1 restores with no texts. */
const SNAPSHOT_VERSION = 2;
const JOURNAL_TAG = "JRNL";
const JOURNAL_VERSION = 1;

/** What Generate does in the sleep phase (config engine.sleepBehaviour). */
export type SleepBehaviour = "short_answers" | "reject";

/** The controller's answer to "may this generation run?", taken atomically before any await. */
export type GenerationAdmission =
  | {
      readonly kind: "admitted";
      /** Phase the request is served in (the phase before this call's rhythm step). */
      readonly phase: Phase;
      readonly moralThreshold: number;
    }
  | {
      /** A governance rejection: a normal response with accepted = false. */
      readonly kind: "rejected";
      readonly stage: "pre_moral" | "rhythm";
      readonly note: string;
      readonly phase: Phase;
      readonly moralThreshold: number;
    }
  | {
      /** The engine is shut down: the call fails (UNAVAILABLE), nothing changed. */
      readonly kind: "refused";
      readonly reason: "emergency_shutdown" | "process_memory_exceeded";
      readonly note: string;
    };

/** A stored memory found for a query, with the text stored beside it. */
export interface ContextMatch extends PelmMatch {
  readonly text: string;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** The cognitive controller. */
export class CognitiveController {
  // The parts are replaced only by `restoreFrom` (an operator restore), in one synchronous step.
  private moralPart: MoralFilter;
  private rhythmPart: CognitiveRhythm;
  private synapticPart: SynapticMemory;
  private pelmPart: Pelm;
  private textsPart: ContextTexts;
  /** Receives the journal entry of every memory write, synchronously, right after it is applied. */
  private journal: ((entry: Uint8Array) => void) | undefined;
  readonly limits: ControllerLimits;
  private readonly brake: EmergencyBrake;
  private readonly clock: Clock;
  private readonly memory: MemoryProbe;
  private readonly phaseTolerance: number;
  private stepCounter = 0;
  private overruns = 0;

  /**
   * @param parts Components to use instead of fresh ones (restore passes the restored ones).
   */
  constructor(
    readonly options: ControllerOptions,
    parts: Partial<{
      moral: MoralFilter;
      rhythm: CognitiveRhythm;
      synaptic: SynapticMemory;
      pelm: Pelm;
      texts: ContextTexts;
    }> = {},
  ) {
    this.clock = options.clock;
    this.memory = options.memory;
    this.phaseTolerance = options.phaseTolerance;
    this.limits = { ...CONTROLLER_LIMITS_DEFAULTS, ...options.limits };
    this.moralPart = parts.moral ?? new MoralFilter(options.moral);
    this.rhythmPart = parts.rhythm ?? new CognitiveRhythm(options.rhythm);
    this.synapticPart =
      parts.synaptic ?? new SynapticMemory({ ...options.synaptic, dimension: options.dimension });
    this.pelmPart =
      parts.pelm ??
      new Pelm({
        dimension: options.dimension,
        capacity: options.pelmCapacity,
        ...(options.parallelScan ? { parallel: options.parallelScan } : {}),
      });
    this.textsPart = parts.texts ?? new ContextTexts(this.pelmPart.capacity);
    this.brake = new EmergencyBrake({ ...RECOVERY_DEFAULTS, ...options.recovery });
    const storeBytes = this.memoryUsageBytes();
    if (storeBytes > this.limits.maxStoreBytes) {
      throw new RangeError(
        `the cognitive store needs ${storeBytes} bytes, above the bound of ${this.limits.maxStoreBytes} bytes`,
      );
    }
  }

  get moral(): MoralFilter {
    return this.moralPart;
  }
  get rhythm(): CognitiveRhythm {
    return this.rhythmPart;
  }
  get synaptic(): SynapticMemory {
    return this.synapticPart;
  }
  get pelm(): Pelm {
    return this.pelmPart;
  }
  get texts(): ContextTexts {
    return this.textsPart;
  }

  /** Sends the journal entry of every memory write to `sink` (the durable store), or stops. */
  setJournal(sink: ((entry: Uint8Array) => void) | undefined): void {
    this.journal = sink;
  }

  /**
   * The journal entry of a memory write just applied: the vector, phase and text written, and
   * the small state after it (step, moral filter, rhythm), so a replay ends in the same state.
   */
  private journalWrite(vector: Float32Array, phase: number, text: string): void {
    if (!this.journal) return;
    const writer = new BinaryWriter().section(JOURNAL_TAG, JOURNAL_VERSION);
    writer.f32s(vector).f64(phase).string(text).u53(this.stepCounter);
    this.moralPart.snapshot(writer);
    this.rhythmPart.snapshot(writer);
    this.journal(writer.finish());
  }

  /** Re-applies one journal entry (start-up replay after the newest snapshot). */
  replay(entry: Uint8Array): void {
    const reader = new BinaryReader(entry);
    reader.section(JOURNAL_TAG, [JOURNAL_VERSION]);
    const vector = reader.f32s(this.options.dimension);
    const phase = reader.f64();
    const text = reader.string();
    const step = reader.u53();
    const moral = MoralFilter.restore(reader, this.options.moral);
    const rhythm = CognitiveRhythm.restore(reader);
    if (!reader.done) throw new SnapshotFormatError("trailing bytes after a journal entry");
    const norm = this.pelmPart.checkVector(vector);
    this.synapticPart.update(vector);
    this.textsPart.set(this.pelmPart.entangleChecked(vector, norm, phase), text);
    this.stepCounter = step;
    this.moralPart.adopt(moral);
    this.rhythmPart.adopt(rhythm);
  }

  /**
   * Replaces the whole state with a snapshot's, in one synchronous step (no call can see a
   * half-restored state). The journal sink is kept. Throws SnapshotFormatError, leaving the
   * current state untouched, when the snapshot is corrupt or of another dimension.
   */
  restoreFrom(bytes: Uint8Array): void {
    const other = CognitiveController.restore(bytes, this.options);
    this.moralPart = other.moralPart;
    this.rhythmPart = other.rhythmPart;
    this.synapticPart = other.synapticPart;
    this.pelmPart = other.pelmPart;
    this.textsPart = other.textsPart;
    this.stepCounter = other.stepCounter;
    this.overruns = other.overruns;
    this.brake.importState(other.brake.exportState());
  }

  /** Bytes of the cognitive store (PELM + synaptic + bookkeeping); fixed after construction. */
  memoryUsageBytes(): number {
    return this.pelm.memoryUsageBytes() + this.synaptic.memoryUsageBytes() + 4096;
  }

  /** Current process memory as a fraction of the configured limit. */
  private memoryFraction(): number {
    const sample = this.memory();
    return Math.max(
      sample.rssBytes / this.limits.rssLimitBytes,
      sample.heapUsedBytes / this.limits.heapLimitBytes,
    );
  }

  /** Whether process memory (resident or V8 heap) is above its limit. */
  private overMemoryLimit(): boolean {
    const sample = this.memory();
    return sample.rssBytes > this.limits.rssLimitBytes || sample.heapUsedBytes > this.limits.heapLimitBytes;
  }

  /** The state report. */
  state(): ControllerState {
    return {
      step: this.stepCounter,
      phase: this.rhythm.phase,
      moralThreshold: round4(this.moral.threshold),
      moralEma: round4(this.moral.ema),
      norms: this.synaptic.norms(),
      pelmUsed: this.pelm.size,
      pelmCapacity: this.pelm.capacity,
      emergency: this.brake.view(),
    };
  }

  private outcome(
    accepted: boolean,
    rejection: RejectionReason | undefined,
    note: string,
    startedAt: number,
    memoryUpdated = false,
  ): EventOutcome {
    return {
      accepted,
      rejection,
      note,
      memoryUpdated,
      processingMs: Math.max(0, this.clock() - startedAt),
      state: this.state(),
    };
  }

  /**
   * Processes one event. `vector` must already be validated (length = dimension, finite):
   * the service validates requests against the contract before calling.
   */
  processEvent(vector: Float32Array, moralValue: number): EventOutcome {
    // Refuse what PELM would refuse (e.g. an all-zero vector) before anything changes.
    const norm = this.pelm.checkVector(vector);
    const startedAt = this.clock();
    if (this.brake.active) {
      this.brake.countStep();
      const check = this.brake.tryRecover(startedAt, this.memoryFraction());
      if (!check.recovered) return this.outcome(false, "emergency_shutdown", "emergency shutdown", startedAt);
    }
    this.stepCounter += 1;
    if (this.overMemoryLimit()) {
      this.brake.engage("process_memory_exceeded", "process memory above the configured limit", startedAt);
      return this.outcome(false, "process_memory_exceeded", "emergency shutdown: memory exceeded", startedAt);
    }
    if (!this.rhythm.isWake()) {
      const remaining = this.rhythm.stepsUntilWake();
      this.rhythm.step();
      return this.outcome(
        false,
        "sleep_phase",
        `sleep phase: ${remaining} more event(s) until wake`,
        startedAt,
      );
    }
    const accepted = this.moral.evaluate(moralValue);
    this.moral.adapt(accepted);
    if (!accepted) {
      this.rhythm.step();
      return this.outcome(false, "moral", "morally rejected", startedAt);
    }
    const elapsed = this.clock() - startedAt;
    if (elapsed > this.limits.maxProcessingTimeMs) {
      this.rhythm.step();
      this.overruns += 1;
      if (this.overruns >= this.limits.overrunsForEmergency) {
        this.brake.engage(
          "processing_time_exceeded",
          `${this.overruns} consecutive events over budget`,
          startedAt,
        );
      }
      return this.outcome(
        false,
        "processing_time_exceeded",
        `processing time exceeded: ${elapsed.toFixed(2)}ms`,
        startedAt,
      );
    }
    this.overruns = 0;
    this.synaptic.update(vector);
    this.texts.set(this.pelm.entangleChecked(vector, norm, PHASE_VALUES.wake), "");
    this.rhythm.step();
    this.journalWrite(vector, PHASE_VALUES.wake, "");
    return this.outcome(true, undefined, "processed", startedAt, true);
  }

  /**
   * The Generate pipeline's admission, one atomic step before any await: emergency and
   * process-memory checks (refusal), then the rhythm gate and the moral filter. The rhythm
   * steps on every admitted or rejected call (W2), and the moral filter adapts only on calls
   * it judged (W3): a sleep-phase rejection leaves it alone.
   */
  admitGeneration(moralValue: number, sleepBehaviour: SleepBehaviour): GenerationAdmission {
    const now = this.clock();
    if (this.brake.active) {
      this.brake.countStep();
      if (!this.brake.tryRecover(now, this.memoryFraction()).recovered) {
        return { kind: "refused", reason: "emergency_shutdown", note: "emergency shutdown" };
      }
    }
    if (this.overMemoryLimit()) {
      this.brake.engage("process_memory_exceeded", "process memory above the configured limit", now);
      return {
        kind: "refused",
        reason: "process_memory_exceeded",
        note: "emergency shutdown: memory exceeded",
      };
    }
    this.stepCounter += 1;
    const phase = this.rhythm.phase;
    if (phase === "sleep" && sleepBehaviour === "reject") {
      const remaining = this.rhythm.stepsUntilWake();
      this.rhythm.step();
      return {
        kind: "rejected",
        stage: "rhythm",
        note: `sleep phase: ${remaining} more call(s) until wake`,
        phase,
        moralThreshold: round4(this.moral.threshold),
      };
    }
    const threshold = round4(this.moral.threshold);
    const accepted = this.moral.evaluate(moralValue);
    this.moral.adapt(accepted);
    this.rhythm.step();
    if (!accepted) {
      return {
        kind: "rejected",
        stage: "pre_moral",
        note: `moral value ${moralValue.toFixed(2)} below threshold ${threshold.toFixed(2)}`,
        phase,
        moralThreshold: threshold,
      };
    }
    return { kind: "admitted", phase, moralThreshold: threshold };
  }

  /**
   * Stores an accepted exchange: the prompt's vector in the synaptic memory and the PELM, and
   * `text` beside it. Nothing is stored for an answer served in the sleep phase (the memory is
   * consolidating) or when the brake engaged while the model was answering. Returns the slot
   * written, or undefined.
   */
  recordExchange(vector: Float32Array, text: string, servedIn: Phase): number | undefined {
    if (servedIn !== "wake" || this.brake.active) return undefined;
    const norm = this.pelm.checkVector(vector);
    this.synaptic.update(vector);
    const slot = this.pelm.entangleChecked(vector, norm, PHASE_VALUES.wake);
    this.texts.set(slot, text);
    this.journalWrite(vector, PHASE_VALUES.wake, text);
    return slot;
  }

  /** Top-k of the memories stored by accepted calls (wake phase value), with their texts. */
  retrieveStored(query: Float32Array, topK: number): ContextMatch[] {
    if (topK <= 0) return [];
    return this.pelm
      .retrieve(query, PHASE_VALUES.wake, { tolerance: this.phaseTolerance, topK, includeVectors: false })
      .map((match) => ({ ...match, text: this.texts.get(match.slot) }));
  }

  /** Top-k context for `query` at the current phase (read-only). */
  retrieve(query: Float32Array, topK: number, includeVectors = false): PelmMatch[] {
    return this.pelm.retrieve(query, this.rhythm.phaseValue, {
      tolerance: this.phaseTolerance,
      topK,
      includeVectors,
    });
  }

  /** True while the emergency brake is engaged (cheap: no state view is built). */
  get emergencyActive(): boolean {
    return this.brake.active;
  }

  /** The emergency brake's state. */
  emergencyView(): EmergencyView {
    return this.brake.view();
  }

  /** Supervisor tick (the service calls it about once a second): counts and tries recovery. */
  tick(): RecoveryTickResult {
    if (!this.brake.active) return { active: false, recovered: false };
    this.brake.countStep();
    const check = this.brake.tryRecover(this.clock(), this.memoryFraction());
    return { active: !check.recovered, recovered: check.recovered };
  }

  /** Operator action: engage the brake now (only an operator reset releases it). */
  triggerEmergency(message: string): EmergencyView {
    this.brake.engage("manual", message, this.clock());
    return this.brake.view();
  }

  /** Operator action: release the brake and clear the attempt counter. Idempotent. */
  resetEmergency(): { wasActive: boolean; emergency: EmergencyView } {
    const wasActive = this.brake.reset(this.clock());
    this.overruns = 0;
    return { wasActive, emergency: this.brake.view() };
  }

  /** Engages the brake for an internal reason (e.g. a corrupted store found by a sweep). */
  engageEmergency(reason: EmergencyReason, message: string): void {
    this.brake.engage(reason, message, this.clock());
  }

  /** Operator action: set the moral threshold (clamped into the filter's bounds). */
  setMoralThreshold(value: number): { previous: number; current: number } {
    const previous = this.moral.threshold;
    this.moral.setThreshold(value);
    return { previous, current: this.moral.threshold };
  }

  /** A compact binary snapshot of the whole controller, bit-for-bit restorable. */
  snapshot(): Uint8Array {
    const now = this.clock();
    const writer = new BinaryWriter().section("CTRL", SNAPSHOT_VERSION);
    writer.u53(this.stepCounter).u32(this.overruns);
    const brake = this.brake.exportState();
    writer
      .string(brake.reason ?? "")
      .string(brake.lastReason ?? "")
      .string(brake.message);
    // Clock values are stored as ages (ms before the snapshot), so a restore on another
    // process's monotonic clock keeps the remaining cooldowns.
    writer.f64(brake.enteredAt === undefined ? -1 : now - brake.enteredAt);
    writer.f64(brake.leftAt === undefined ? -1 : now - brake.leftAt);
    writer.u53(brake.steps).u32(brake.attempts);
    this.moral.snapshot(writer);
    this.rhythm.snapshot(writer);
    this.synaptic.snapshot(writer);
    this.pelm.snapshot(writer);
    this.texts.snapshot(writer);
    return writer.finish();
  }

  /** Rebuilds a controller from `snapshot()` bytes with the given options (dimension must match). */
  static restore(bytes: Uint8Array, options: ControllerOptions): CognitiveController {
    const reader = new BinaryReader(bytes);
    const version = reader.section("CTRL", [1, SNAPSHOT_VERSION]);
    const now = options.clock();
    const stepCounter = reader.u53();
    const overruns = reader.u32();
    const reason = parseReason(reader.string());
    const lastReason = parseReason(reader.string());
    const message = reader.string();
    const enteredAge = reader.f64();
    const leftAge = reader.f64();
    const steps = reader.u53();
    const attempts = reader.u32();
    const parts = {
      moral: MoralFilter.restore(reader, options.moral),
      rhythm: CognitiveRhythm.restore(reader),
      synaptic: SynapticMemory.restore(reader, { ...options.synaptic, dimension: options.dimension }),
      pelm: Pelm.restore(reader, options.parallelScan ? { parallel: options.parallelScan } : {}),
    };
    const texts = version >= 2 ? ContextTexts.restore(reader, parts.pelm.capacity) : undefined;
    if (!reader.done) throw new SnapshotFormatError("trailing bytes after the controller snapshot");
    if (parts.pelm.dimension !== options.dimension) {
      throw new SnapshotFormatError(
        `snapshot dimension ${parts.pelm.dimension} differs from the configured ${options.dimension}`,
      );
    }
    const controller = new CognitiveController(options, texts ? { ...parts, texts } : parts);
    controller.stepCounter = stepCounter;
    controller.overruns = overruns;
    controller.brake.importState({
      reason,
      lastReason,
      message,
      enteredAt: enteredAge < 0 ? undefined : now - enteredAge,
      leftAt: leftAge < 0 ? undefined : now - leftAge,
      steps,
      attempts,
    });
    return controller;
  }
}

/** Result of a supervisor tick. */
export interface RecoveryTickResult {
  /** Whether the brake is (still) engaged after the tick. */
  readonly active: boolean;
  /** Whether this tick released it. */
  readonly recovered: boolean;
}

const REASONS: readonly EmergencyReason[] = [
  "process_memory_exceeded",
  "memory_limit_exceeded",
  "processing_time_exceeded",
  "memory_corruption",
  "manual",
];

function parseReason(text: string): EmergencyReason | undefined {
  if (text === "") return undefined;
  const reason = REASONS.find((r) => r === text);
  if (!reason) throw new SnapshotFormatError(`unknown emergency reason ${JSON.stringify(text)}`);
  return reason;
}
