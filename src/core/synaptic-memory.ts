/**
 * Multi-level synaptic memory (core.md §3): three float32 vectors L1 (short), L2 (medium)
 * and L3 (long term). Every event decays all three, lands in L1, and components that stand
 * out strongly enough cascade L1 → L2 → L3, so repeated directions are consolidated while
 * one-off ones fade.
 *
 * Arithmetic: every operation is rounded to float32 with `Math.fround`, one rounding per
 * operation, exactly as NumPy's float32 element-wise ufuncs do in the reference
 * (`l1 *= 1 - lambda_l1`, `l1 += event`, `transfer12 = (l1 > theta_l1) * l1 * gating12`,
 * ...). A product or sum of two float32 values computed in double and then rounded to float32
 * equals the correctly rounded float32 result (double has more than 2·24 + 2 significand
 * bits), so the levels are bit-identical to the reference's. The scalar parameters are cast
 * to float32 first, as NumPy casts a Python float against a float32 array — including the
 * thresholds: with theta 1.2 a component equal to float32(1.2) does NOT transfer.
 */
import type { BinaryReader, BinaryWriter } from "./binary.js";

/** The memory's knobs (core.md §3); see {@link SYNAPTIC_DEFAULTS} for values and ranges. */
export interface SynapticOptions {
  /** Length of every event and level; a positive integer. */
  readonly dimension: number;
  /** Per-event decay of L1, in (0, 1]. */
  readonly lambdaL1: number;
  /** Per-event decay of L2, in (0, 1]. */
  readonly lambdaL2: number;
  /** Per-event decay of L3, in (0, 1]. */
  readonly lambdaL3: number;
  /** L1 components strictly above this (signed) transfer to L2; > 0. */
  readonly thetaL1: number;
  /** L2 components strictly above this (signed) transfer to L3; > 0. */
  readonly thetaL2: number;
  /** Fraction of a qualifying L1 component moved to L2, in [0, 1]. */
  readonly gating12: number;
  /** Fraction of a qualifying L2 component moved to L3, in [0, 1]. */
  readonly gating23: number;
}

/**
 * The reference's calibration (core.md §3; the reference's YAML disagreed — W15 — the
 * calibration is authoritative). Valid ranges: dimension a positive integer, lambdas in
 * (0, 1], thetas > 0, gatings in [0, 1].
 */
export const SYNAPTIC_DEFAULTS = {
  dimension: 384,
  lambdaL1: 0.5,
  lambdaL2: 0.1,
  lambdaL3: 0.01,
  thetaL1: 1.2,
  thetaL2: 2.5,
  gating12: 0.45,
  gating23: 0.3,
} as const satisfies SynapticOptions;

/** Euclidean norms of the three levels. */
export interface SynapticNorms {
  readonly l1: number;
  readonly l2: number;
  readonly l3: number;
}

/** Copies of the three levels. */
export interface SynapticLevels {
  readonly l1: Float32Array;
  readonly l2: Float32Array;
  readonly l3: Float32Array;
}

const SNAPSHOT_TAG = "SYNP";
const SNAPSHOT_VERSION = 1;
/** The reference's allowance for its bookkeeping, in bytes (core.md §3). */
const METADATA_BYTES = 512;
/** The reference's conservative overhead factor (core.md §3). */
const OVERHEAD_FACTOR = 1.15;

function fail(name: keyof SynapticOptions, range: string, value: number): never {
  throw new RangeError(`synaptic memory option ${name} must be ${range}, got ${value}`);
}

/** Merges `options` over the defaults (an `undefined` value means "default") and validates. */
function resolveOptions(options: Partial<SynapticOptions>): SynapticOptions {
  const o: SynapticOptions = {
    dimension: options.dimension ?? SYNAPTIC_DEFAULTS.dimension,
    lambdaL1: options.lambdaL1 ?? SYNAPTIC_DEFAULTS.lambdaL1,
    lambdaL2: options.lambdaL2 ?? SYNAPTIC_DEFAULTS.lambdaL2,
    lambdaL3: options.lambdaL3 ?? SYNAPTIC_DEFAULTS.lambdaL3,
    thetaL1: options.thetaL1 ?? SYNAPTIC_DEFAULTS.thetaL1,
    thetaL2: options.thetaL2 ?? SYNAPTIC_DEFAULTS.thetaL2,
    gating12: options.gating12 ?? SYNAPTIC_DEFAULTS.gating12,
    gating23: options.gating23 ?? SYNAPTIC_DEFAULTS.gating23,
  };
  if (!Number.isSafeInteger(o.dimension) || o.dimension <= 0)
    fail("dimension", "a positive integer", o.dimension);
  for (const key of ["lambdaL1", "lambdaL2", "lambdaL3"] as const) {
    if (!(o[key] > 0 && o[key] <= 1)) fail(key, "in (0, 1]", o[key]);
  }
  for (const key of ["thetaL1", "thetaL2"] as const) {
    if (!(o[key] > 0 && Number.isFinite(o[key]))) fail(key, "finite and > 0", o[key]);
  }
  for (const key of ["gating12", "gating23"] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) fail(key, "in [0, 1]", o[key]);
  }
  return o;
}

function euclidean(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return Math.sqrt(sum);
}

/** The three-level cascade. */
export class SynapticMemory {
  /** The validated options. */
  readonly options: Readonly<SynapticOptions>;
  /** Length of every event and level. */
  readonly dimension: number;
  private readonly l1: Float32Array;
  private readonly l2: Float32Array;
  private readonly l3: Float32Array;
  // The parameters as float32, as NumPy casts a Python float against a float32 array.
  private readonly keep1: number;
  private readonly keep2: number;
  private readonly keep3: number;
  private readonly theta1: number;
  private readonly theta2: number;
  private readonly gate12: number;
  private readonly gate23: number;
  /** norms() of the current levels; cleared by every write. */
  private cachedNorms: SynapticNorms | undefined;

  /** @throws RangeError naming the option when an option is out of its range. */
  constructor(options: Partial<SynapticOptions> = {}) {
    const o = resolveOptions(options);
    this.options = Object.freeze(o);
    this.dimension = o.dimension;
    this.l1 = new Float32Array(o.dimension);
    this.l2 = new Float32Array(o.dimension);
    this.l3 = new Float32Array(o.dimension);
    this.keep1 = Math.fround(1 - o.lambdaL1);
    this.keep2 = Math.fround(1 - o.lambdaL2);
    this.keep3 = Math.fround(1 - o.lambdaL3);
    this.theta1 = Math.fround(o.thetaL1);
    this.theta2 = Math.fround(o.thetaL2);
    this.gate12 = Math.fround(o.gating12);
    this.gate23 = Math.fround(o.gating23);
  }

  /**
   * One event, in the reference's order (core.md §3), per component:
   * 1. decay: L1 ·= 1 − λ1, L2 ·= 1 − λ2, L3 ·= 1 − λ3;
   * 2. L1 += event;
   * 3. t12 = [L1 > θ1]·L1·g12 (signed, strict); L1 −= t12; L2 += t12;
   * 4. t23 = [L2 > θ2]·L2·g23 using L2 after step 3; L2 −= t23; L3 += t23.
   * All steps are element-wise, so one fused pass over the components gives the same bits as
   * the reference's stage-by-stage passes, without allocating. The mask is multiplied in as
   * the reference does (0·x rather than "skip"), which also keeps its signed-zero results.
   * Values are not checked: the controller validates finiteness before calling.
   * @throws RangeError when `event.length` differs from the dimension.
   */
  update(event: Float32Array): void {
    if (event.length !== this.dimension) {
      throw new RangeError(`event has ${event.length} components, expected ${this.dimension}`);
    }
    const { l1, l2, l3, keep1, keep2, keep3, theta1, theta2, gate12, gate23 } = this;
    const f = Math.fround;
    // The norms of the new levels, summed in the same order as norms() would (the values are
    // float32 already, so the sums are identical), saving a second pass over the levels.
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < this.dimension; i++) {
      // `?? 0` only satisfies noUncheckedIndexedAccess: i < dimension = every array's length.
      let a = f((l1[i] ?? 0) * keep1);
      let b = f((l2[i] ?? 0) * keep2);
      let c = f((l3[i] ?? 0) * keep3);
      a = f(a + (event[i] ?? 0));
      const t12 = f((a > theta1 ? 1 : 0) * a * gate12);
      a = f(a - t12);
      b = f(b + t12);
      const t23 = f((b > theta2 ? 1 : 0) * b * gate23);
      b = f(b - t23);
      c = f(c + t23);
      l1[i] = a;
      l2[i] = b;
      l3[i] = c;
      s1 += a * a;
      s2 += b * b;
      s3 += c * c;
    }
    this.cachedNorms = { l1: Math.sqrt(s1), l2: Math.sqrt(s2), l3: Math.sqrt(s3) };
  }

  /** Euclidean norms of the levels, accumulated in double precision (computed once per change). */
  norms(): SynapticNorms {
    this.cachedNorms ??= { l1: euclidean(this.l1), l2: euclidean(this.l2), l3: euclidean(this.l3) };
    return this.cachedNorms;
  }

  /** Copies of the three levels (the memory's own arrays never leave it). */
  levels(): SynapticLevels {
    return { l1: this.l1.slice(), l2: this.l2.slice(), l3: this.l3.slice() };
  }

  /** Zero-fills all three levels. */
  reset(): void {
    this.cachedNorms = undefined;
    this.l1.fill(0);
    this.l2.fill(0);
    this.l3.fill(0);
  }

  /**
   * The reference's estimate, floor((3·dimension·4 + 512) × 1.15) bytes (5,888 at dimension
   * 384), kept so the controller's store budget matches the reference's.
   */
  memoryUsageBytes(): number {
    return Math.floor((3 * this.dimension * 4 + METADATA_BYTES) * OVERHEAD_FACTOR);
  }

  /** Writes a "SYNP" v1 section: L1, L2 and L3 as raw float32 bytes. */
  snapshot(writer: BinaryWriter): void {
    writer.section(SNAPSHOT_TAG, SNAPSHOT_VERSION).f32s(this.l1).f32s(this.l2).f32s(this.l3);
  }

  /**
   * Reads a "SYNP" section into a memory built from `options`; the snapshot's level length
   * must equal the configured dimension.
   * @throws SnapshotFormatError on a wrong tag or version, truncation or a dimension mismatch.
   */
  static restore(reader: BinaryReader, options: Partial<SynapticOptions> = {}): SynapticMemory {
    const memory = new SynapticMemory(options);
    reader.section(SNAPSHOT_TAG, [SNAPSHOT_VERSION]);
    memory.l1.set(reader.f32s(memory.dimension));
    memory.l2.set(reader.f32s(memory.dimension));
    memory.l3.set(reader.f32s(memory.dimension));
    return memory;
  }
}
