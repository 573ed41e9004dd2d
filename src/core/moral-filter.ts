/**
 * The adaptive moral filter (core.md §1): a threshold in [min, max] that accepts an event's
 * moral value, and an exponential moving average of the accept rate that nudges the
 * threshold one fixed step at a time towards a 50 % accept rate.
 *
 * The arithmetic follows the reference operation by operation, so the IEEE-double
 * trajectories of threshold and EMA are identical to the Python implementation's (the
 * spec's golden values are pinned in tests/core/moral-filter.test.ts).
 */
import type { BinaryReader, BinaryWriter } from "./binary.js";
import { SnapshotFormatError } from "./binary.js";

/** The filter's knobs. All are plain numbers; see {@link MORAL_FILTER_DEFAULTS}. */
export interface MoralFilterOptions {
  /** Threshold at construction and after `reset()` (clamped into [min, max]). */
  readonly initialThreshold: number;
  /** Floor of the threshold; values below it are always rejected. */
  readonly minThreshold: number;
  /** Ceiling of the threshold; values at or above it are always accepted. */
  readonly maxThreshold: number;
  /** No adaptation while |ema − 0.5| ≤ deadBand. */
  readonly deadBand: number;
  /** Weight of the newest accept/reject signal in the EMA, in (0, 1]. */
  readonly emaAlpha: number;
  /** The fixed threshold change per adaptation outside the dead band. */
  readonly step: number;
}

/**
 * The reference's calibration (core.md §1): threshold 0.50 in [0.30, 0.90], dead band 0.05,
 * EMA weight 0.1, step 0.05. The configuration schema maps its keys onto these options.
 */
export const MORAL_FILTER_DEFAULTS = {
  initialThreshold: 0.5,
  minThreshold: 0.3,
  maxThreshold: 0.9,
  deadBand: 0.05,
  emaAlpha: 0.1,
  step: 0.05,
} as const satisfies MoralFilterOptions;

/** The EMA's starting value and the accept rate the filter steers towards. */
const EMA_TARGET = 0.5;

const SNAPSHOT_TAG = "MORL";
const SNAPSHOT_VERSION = 1;

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(value, max));
}

function requireFinite(name: keyof MoralFilterOptions, value: number): void {
  if (!Number.isFinite(value))
    throw new RangeError(`moral filter option ${name} must be finite, got ${value}`);
}

/** Merges `options` over the defaults (an `undefined` value means "default") and validates. */
function resolveOptions(options: Partial<MoralFilterOptions>): MoralFilterOptions {
  const resolved = {
    initialThreshold: options.initialThreshold ?? MORAL_FILTER_DEFAULTS.initialThreshold,
    minThreshold: options.minThreshold ?? MORAL_FILTER_DEFAULTS.minThreshold,
    maxThreshold: options.maxThreshold ?? MORAL_FILTER_DEFAULTS.maxThreshold,
    deadBand: options.deadBand ?? MORAL_FILTER_DEFAULTS.deadBand,
    emaAlpha: options.emaAlpha ?? MORAL_FILTER_DEFAULTS.emaAlpha,
    step: options.step ?? MORAL_FILTER_DEFAULTS.step,
  };
  for (const key of Object.keys(resolved) as (keyof MoralFilterOptions)[]) requireFinite(key, resolved[key]);
  if (!(resolved.minThreshold < resolved.maxThreshold)) {
    throw new RangeError(
      `moral filter option minThreshold (${resolved.minThreshold}) must be below maxThreshold (${resolved.maxThreshold})`,
    );
  }
  if (!(resolved.emaAlpha > 0 && resolved.emaAlpha <= 1)) {
    throw new RangeError(`moral filter option emaAlpha must be in (0, 1], got ${resolved.emaAlpha}`);
  }
  if (!(resolved.deadBand >= 0)) {
    throw new RangeError(`moral filter option deadBand must be ≥ 0, got ${resolved.deadBand}`);
  }
  if (!(resolved.step > 0))
    throw new RangeError(`moral filter option step must be > 0, got ${resolved.step}`);
  resolved.initialThreshold = clamp(resolved.initialThreshold, resolved.minThreshold, resolved.maxThreshold);
  return resolved;
}

/**
 * The adaptive moral filter.
 *
 * `evaluate` decides; `adapt` learns from the decision. They are separate so the caller
 * controls which events teach the filter (the controller adapts only on events it actually
 * evaluated, W3).
 *
 * Known asymmetry (W3, kept on purpose so the reference's trajectories hold): in doubles,
 * from ema 0.5 one accept gives ema 0.55 and error 0.050000000000000044, which is OUTSIDE
 * the 0.05 dead band, so the threshold rises at once; one reject gives ema 0.45 and error
 * −0.04999999999999999, INSIDE the band, so the threshold stays. Also, a run
 * of accepts raises the threshold to `maxThreshold` — the filter becomes stricter because
 * it accepts — and a run of rejects lowers it to `minThreshold`. This is homeostasis towards
 * a 50 % accept rate, not a quality judgement; operators can pin it with `setThreshold`.
 */
export class MoralFilter {
  /** The validated options, with `initialThreshold` already clamped into [min, max]. */
  readonly options: Readonly<MoralFilterOptions>;
  private currentThreshold: number;
  private currentEma = EMA_TARGET;

  /** @throws RangeError naming the option when an option is invalid. */
  constructor(options: Partial<MoralFilterOptions> = {}) {
    this.options = Object.freeze(resolveOptions(options));
    this.currentThreshold = this.options.initialThreshold;
  }

  /** The adaptive threshold, always in [minThreshold, maxThreshold]. */
  get threshold(): number {
    return this.currentThreshold;
  }

  /** The EMA of the accept signal, always in [0, 1]; starts at 0.5. */
  get ema(): number {
    return this.currentEma;
  }

  /**
   * Whether `value` passes, without side effects: ≥ maxThreshold always passes, < minThreshold
   * never does, otherwise it must reach the current threshold. A non-finite value (NaN, ±∞)
   * never passes: callers validate first, but the filter must not accept NaN by accident.
   */
  evaluate(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    if (value >= this.options.maxThreshold) return true;
    if (value < this.options.minThreshold) return false;
    return value >= this.currentThreshold;
  }

  /**
   * Learns from one decision, in the reference's exact operation order (core.md §1):
   * `ema = alpha·signal + (1 − alpha)·ema`; `error = ema − 0.5`; if |error| > deadBand the
   * threshold moves one `step` in the direction of the error, clamped into [min, max].
   * The change is always exactly 0 or ±step before clamping — no proportional control.
   */
  adapt(accepted: boolean): void {
    const { emaAlpha, deadBand, step, minThreshold, maxThreshold } = this.options;
    const signal = accepted ? 1 : 0;
    this.currentEma = emaAlpha * signal + (1 - emaAlpha) * this.currentEma;
    const error = this.currentEma - EMA_TARGET;
    if (Math.abs(error) > deadBand) {
      this.currentThreshold = clamp(
        this.currentThreshold + step * Math.sign(error),
        minThreshold,
        maxThreshold,
      );
    }
  }

  /**
   * Operator override: sets the threshold, clamped into [min, max] (the EMA is kept, so the
   * filter keeps adapting from the new value).
   * @throws RangeError when `value` is not finite.
   */
  setThreshold(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`moral threshold must be finite, got ${value}`);
    this.currentThreshold = clamp(value, this.options.minThreshold, this.options.maxThreshold);
  }

  /** Back to the CONFIGURED initial threshold and ema 0.5 (the reference ignored the configuration, W15). */
  reset(): void {
    this.currentThreshold = this.options.initialThreshold;
    this.currentEma = EMA_TARGET;
  }

  /** Takes over the state (threshold and ema) of `other` (a restored filter). */
  adopt(other: MoralFilter): void {
    this.currentThreshold = other.currentThreshold;
    this.currentEma = other.currentEma;
  }

  /** Writes a "MORL" v1 section: threshold and ema as f64, bit for bit. */
  snapshot(writer: BinaryWriter): void {
    writer.section(SNAPSHOT_TAG, SNAPSHOT_VERSION).f64(this.currentThreshold).f64(this.currentEma);
  }

  /**
   * Reads a "MORL" section into a filter built from `options`. A threshold outside the
   * configured [min, max] (the bounds changed since the snapshot) is clamped, as an operator
   * override would be; non-finite values or an ema outside [0, 1] mean a corrupt snapshot.
   * @throws SnapshotFormatError on a wrong tag or version, truncation or corrupt values.
   */
  static restore(reader: BinaryReader, options: Partial<MoralFilterOptions> = {}): MoralFilter {
    reader.section(SNAPSHOT_TAG, [SNAPSHOT_VERSION]);
    const threshold = reader.f64();
    const ema = reader.f64();
    if (!Number.isFinite(threshold))
      throw new SnapshotFormatError(`moral threshold ${threshold} is not finite`);
    if (!(ema >= 0 && ema <= 1)) throw new SnapshotFormatError(`moral ema ${ema} is outside [0, 1]`);
    const filter = new MoralFilter(options);
    filter.setThreshold(threshold);
    filter.currentEma = ema;
    return filter;
  }
}
