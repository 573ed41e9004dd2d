/**
 * The cognitive rhythm (core.md §2): a wake/sleep cycle counted in steps. Wake lasts
 * `wakeDuration` steps and sleep `sleepDuration` steps, so the cycle repeats every
 * wake + sleep steps (11 with the defaults: steps 1..7 stay awake, the 8th falls asleep,
 * three steps later it wakes again).
 *
 * The rhythm only counts; who steps it, and when, is the controller's business. The
 * reference stepped it only on accepted events, so sleep (which rejects every event) never
 * ended (W2); the controller here steps it on every event, which this class makes safe:
 * from any sleep state, `stepsUntilWake()` steps always reach wake.
 */
import type { BinaryReader, BinaryWriter } from "./binary.js";
import { SnapshotFormatError } from "./binary.js";

/** The rhythm's knobs: phase lengths in steps. */
export interface RhythmOptions {
  /** Steps spent awake per cycle; a positive integer. */
  readonly wakeDuration: number;
  /** Steps spent asleep per cycle; a positive integer. */
  readonly sleepDuration: number;
}

/** The reference's calibration: 8 steps awake, 3 asleep (core.md §2). */
export const RHYTHM_DEFAULTS = { wakeDuration: 8, sleepDuration: 3 } as const satisfies RhythmOptions;

/** The two phases of the rhythm. */
export type Phase = "wake" | "sleep";

/**
 * The phase encoding PELM stores and queries with (core.md §4): memories written awake carry
 * 0.1, consolidated ones 0.9, and a query at one phase's value only sees that phase's memories.
 */
export const PHASE_VALUES = { wake: 0.1, sleep: 0.9 } as const satisfies Record<Phase, number>;

/** The token budget of an answer by phase: full answers awake, short ones asleep (core.md §2, W2). */
export const MAX_TOKENS_BY_PHASE = { wake: 2048, sleep: 150 } as const satisfies Record<Phase, number>;

const SNAPSHOT_TAG = "RHYT";
const SNAPSHOT_VERSION = 1;
const PHASE_CODES: readonly Phase[] = ["wake", "sleep"];

function requireDuration(name: keyof RhythmOptions, value: number): number {
  // The reference truncates non-integers (int(2.7) = 2); a fractional phase length is almost
  // certainly a configuration mistake, so it is refused instead of silently rounded.
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`rhythm option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** The wake/sleep counter. */
export class CognitiveRhythm {
  /** Steps awake per cycle. */
  readonly wakeDuration: number;
  /** Steps asleep per cycle. */
  readonly sleepDuration: number;
  private currentPhase: Phase = "wake";
  private remaining: number;

  /**
   * Starts awake with the full wake duration left. An `undefined` option means "default".
   * @throws RangeError naming the option when a duration is not a positive integer.
   */
  constructor(options: Partial<RhythmOptions> = {}) {
    this.wakeDuration = requireDuration("wakeDuration", options.wakeDuration ?? RHYTHM_DEFAULTS.wakeDuration);
    this.sleepDuration = requireDuration(
      "sleepDuration",
      options.sleepDuration ?? RHYTHM_DEFAULTS.sleepDuration,
    );
    this.remaining = this.wakeDuration;
  }

  /** The current phase. */
  get phase(): Phase {
    return this.currentPhase;
  }

  /** Steps left in the current phase, in [1, duration of the phase]. */
  get counter(): number {
    return this.remaining;
  }

  /** The current phase's PELM encoding (0.1 awake, 0.9 asleep). */
  get phaseValue(): number {
    return PHASE_VALUES[this.currentPhase];
  }

  /** The current phase's answer token budget (2048 awake, 150 asleep). */
  get maxTokens(): number {
    return MAX_TOKENS_BY_PHASE[this.currentPhase];
  }

  /** True while awake. */
  isWake(): boolean {
    return this.currentPhase === "wake";
  }

  /** True while asleep. */
  isSleep(): boolean {
    return this.currentPhase === "sleep";
  }

  /** Steps until the rhythm is awake again: 0 when awake, else the sleep steps left (a retry hint). */
  stepsUntilWake(): number {
    return this.currentPhase === "wake" ? 0 : this.remaining;
  }

  /** Advances one step: counter − 1; at 0 the phase flips and the counter restarts at its duration. */
  step(): void {
    this.remaining -= 1;
    if (this.remaining <= 0) {
      this.currentPhase = this.currentPhase === "wake" ? "sleep" : "wake";
      this.remaining = this.currentPhase === "wake" ? this.wakeDuration : this.sleepDuration;
    }
  }

  /** Takes over the phase and counter of `other` (a restored rhythm with the same durations). */
  adopt(other: CognitiveRhythm): void {
    this.currentPhase = other.currentPhase;
    this.remaining = other.remaining;
  }

  /** Writes an "RHYT" v1 section: both durations, the phase (0 wake, 1 sleep) and the counter. */
  snapshot(writer: BinaryWriter): void {
    writer
      .section(SNAPSHOT_TAG, SNAPSHOT_VERSION)
      .u53(this.wakeDuration)
      .u53(this.sleepDuration)
      .u8(PHASE_CODES.indexOf(this.currentPhase))
      .u53(this.remaining);
  }

  /**
   * Reads an "RHYT" section. The durations come from the snapshot (a rhythm resumes the cycle
   * it was in), so a configuration change of the durations applies only to fresh rhythms.
   * @throws SnapshotFormatError on a wrong tag or version, truncation or inconsistent values.
   */
  static restore(reader: BinaryReader): CognitiveRhythm {
    reader.section(SNAPSHOT_TAG, [SNAPSHOT_VERSION]);
    const wakeDuration = reader.u53();
    const sleepDuration = reader.u53();
    const phaseCode = reader.u8();
    const counter = reader.u53();
    const phase = PHASE_CODES[phaseCode];
    if (phase === undefined) throw new SnapshotFormatError(`unknown rhythm phase code ${phaseCode}`);
    let rhythm: CognitiveRhythm;
    try {
      rhythm = new CognitiveRhythm({ wakeDuration, sleepDuration });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new SnapshotFormatError(`invalid rhythm durations: ${why}`);
    }
    const duration = phase === "wake" ? wakeDuration : sleepDuration;
    if (counter < 1 || counter > duration) {
      throw new SnapshotFormatError(
        `rhythm counter ${counter} is outside [1, ${duration}] for phase ${phase}`,
      );
    }
    rhythm.currentPhase = phase;
    rhythm.remaining = counter;
    return rhythm;
  }
}
