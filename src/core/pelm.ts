/**
 * PELM, the phase-entangled lattice memory (core.md §4): a fixed-capacity ring buffer of
 * pre-normalised float32 vectors, each with a phase, searched by cosine similarity among the
 * entries whose phase lies within a tolerance of the query's.
 *
 * Built for speed (perf-reference.md): one contiguous Float32Array (capacity × dimension) of
 * unit vectors, so cosine is a dot product; phases, norms, insertion sequence numbers and
 * per-slot checksums in typed arrays beside it; retrieval checks the phase before touching a
 * row, keeps the top k in a small preallocated heap and allocates nothing proportional to
 * capacity. Integrity is kept per slot (W6): written with the slot, verified by `verify()` for
 * snapshots and sweeps, never on the request path; a corrupt slot is dropped, never re-blessed.
 */
import { SnapshotFormatError, type BinaryReader, type BinaryWriter } from "./binary.js";
import { createDotKernel, type DotKernel, type KernelInstance, type KernelMemory } from "./pelm-kernel.js";
import type { ParallelScan } from "./ports.js";

/** Defaults from core.md §4. */
export const PELM_DEFAULTS = { dimension: 384, capacity: 20_000, phaseTolerance: 0.15, topK: 5 } as const;
/** Largest capacity accepted (core.md §4). */
export const PELM_MAX_CAPACITY = 1_000_000;
/** Norm below which a vector has no direction and is refused. */
export const MIN_NORM = 1e-9;
/** Largest top-k a retrieval may ask for (the heap is preallocated to this size). */
export const PELM_MAX_TOP_K = 100;

/** Options of a PELM. */
export interface PelmOptions {
  readonly dimension: number;
  readonly capacity: number;
  /**
   * Helper threads for large scans (ADR 0021): the vectors then live in shared WebAssembly
   * memory and a retrieval over at least PELM_PARALLEL_MIN_ROWS in-phase slots is split
   * between this thread and the helpers. The result is the same top-k as a one-thread scan.
   */
  readonly parallel?: ParallelScan;
}

/** Smallest store a retrieval splits between threads (below it, waking a helper costs more). */
export const PELM_PARALLEL_MIN_ROWS = 4096;

/** One retrieval result. */
export interface PelmMatch {
  readonly slot: number;
  /** The stored phase value (float32). */
  readonly phase: number;
  /** Cosine similarity with the query, in [−1, 1]. */
  readonly resonance: number;
  /** The stored vector (unit vector × stored norm, equal to the original up to float32 rounding), on request. */
  readonly vector?: Float32Array;
}

/** A refused input; `field` and `index` let the service report a field violation. */
export class PelmValidationError extends Error {
  override readonly name = "PelmValidationError";
  constructor(
    message: string,
    readonly field: "vector" | "phase" | "topK" | "tolerance",
    readonly index?: number,
  ) {
    super(message);
  }
}

/** Phase stored for a slot removed from service after corruption: matches no query. */
const DROPPED_PHASE = Number.NaN;

const FNV_PRIME = 0x01000193;
const PHASE_SCRATCH = new Float32Array(1);
const PHASE_WORD = new Uint32Array(PHASE_SCRATCH.buffer);

/**
 * Per-slot checksum written with the slot (O(dimension), W6): FNV-1a-style mixing over the
 * slot's float bits in four independent lanes (so the multiplies pipeline), folded together
 * with the phase. Detects any changed bit pattern of the stored row or phase.
 */
/* eslint-disable @typescript-eslint/no-non-null-assertion */
function slotChecksum(words: Uint32Array, offset: number, dimension: number, phase: number): number {
  let h0 = 0x811c9dc5;
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b;
  let h3 = 0xc2b2ae35;
  const end = offset + dimension;
  const tail = end - (dimension % 4);
  let i = offset;
  for (; i < tail; i += 4) {
    h0 = Math.imul(h0 ^ words[i]!, FNV_PRIME);
    h1 = Math.imul(h1 ^ words[i + 1]!, FNV_PRIME);
    h2 = Math.imul(h2 ^ words[i + 2]!, FNV_PRIME);
    h3 = Math.imul(h3 ^ words[i + 3]!, FNV_PRIME);
  }
  for (; i < end; i++) h0 = Math.imul(h0 ^ words[i]!, FNV_PRIME);
  PHASE_SCRATCH[0] = phase;
  let hash = Math.imul(h0 ^ PHASE_WORD[0]!, FNV_PRIME);
  hash = Math.imul(hash ^ h1, FNV_PRIME);
  hash = Math.imul(hash ^ h2, FNV_PRIME);
  return Math.imul(hash ^ h3, FNV_PRIME) >>> 0;
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */

/** How many of the first `size` slots are in [lo, hi]. */
function inPhaseCount(phases: Float32Array, size: number, lo: number, hi: number): number {
  let count = 0;
  for (let slot = 0; slot < size; slot++) if (inPhase(phases, slot, lo, hi)) count++;
  return count;
}

/** Whether slot `slot`'s phase lies in [lo, hi] (a dropped slot's NaN never does). */
function inPhase(phases: Float32Array, slot: number, lo: number, hi: number): boolean {
  const p = phases[slot] ?? Number.NaN;
  return p >= lo && p <= hi;
}

/**
 * Dot product of the row at `base` with `q` (the TypeScript path, used when the SIMD kernel
 * is unavailable). Four accumulators; indices are in range by construction, so `!` keeps the
 * hot loop free of checks.
 */
/* eslint-disable @typescript-eslint/no-non-null-assertion */
function dot(data: Float32Array, base: number, q: Float32Array, dim: number): number {
  const tail = dim - (dim % 4);
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (let i = 0; i < tail; i += 4) {
    a += data[base + i]! * q[i]!;
    b += data[base + i + 1]! * q[i + 1]!;
    c += data[base + i + 2]! * q[i + 2]!;
    d += data[base + i + 3]! * q[i + 3]!;
  }
  for (let i = tail; i < dim; i++) a += data[base + i]! * q[i]!;
  return a + b + c + d;
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */

/** The memory. */
export class Pelm {
  readonly dimension: number;
  readonly capacity: number;
  private readonly vectors: Float32Array;
  /** The same bytes as `vectors`, as raw 32-bit words (for checksums). */
  private readonly words: Uint32Array;
  private readonly phases: Float32Array;
  private readonly norms: Float32Array;
  private readonly seqs: Uint32Array;
  private readonly checksums: Uint32Array;
  private readonly query: Float32Array;
  /** The WebAssembly SIMD scan, when available (vectors then live in its memory). */
  private readonly kernel:
    | {
        dots: DotKernel;
        memory: KernelMemory;
        instance: KernelInstance;
        scratch: { at: number; bytes: number };
        scores: Float32Array;
        scoresAt: number;
        vectorsAt: number;
      }
    | undefined;
  private readonly parallel: ParallelScan | undefined;
  /** The helpers' `dots` for this memory, bound on the first large retrieval (null: cannot). */
  private parallelDots: DotKernel | null | undefined;
  private readonly heapSlots = new Int32Array(PELM_MAX_TOP_K);
  private readonly heapScores = new Float64Array(PELM_MAX_TOP_K);
  private pointerValue = 0;
  private sizeValue = 0;
  private sequence = 0;

  constructor(options: Partial<PelmOptions> = {}) {
    const dimension = options.dimension ?? PELM_DEFAULTS.dimension;
    const capacity = options.capacity ?? PELM_DEFAULTS.capacity;
    if (!Number.isSafeInteger(dimension) || dimension < 1) {
      throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
    }
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > PELM_MAX_CAPACITY) {
      const mb = ((capacity * dimension * 4) / 2 ** 20).toFixed(1);
      throw new RangeError(
        `capacity must be an integer from 1 to ${PELM_MAX_CAPACITY}, got ${capacity} (≈ ${mb} MB of vectors)`,
      );
    }
    this.dimension = dimension;
    this.capacity = capacity;
    this.parallel = options.parallel;
    this.kernel =
      dimension % 16 === 0
        ? Pelm.createKernel(dimension, capacity, options.parallel?.helpers ?? 0)
        : undefined;
    if (this.kernel) {
      const buffer = this.kernel.memory.buffer;
      this.query = new Float32Array(buffer, 0, dimension);
      this.vectors = new Float32Array(buffer, this.kernel.vectorsAt, capacity * dimension);
    } else {
      this.query = new Float32Array(dimension);
      this.vectors = new Float32Array(capacity * dimension);
    }
    this.words = new Uint32Array(this.vectors.buffer, this.vectors.byteOffset, this.vectors.length);
    this.phases = new Float32Array(capacity);
    this.norms = new Float32Array(capacity);
    this.seqs = new Uint32Array(capacity);
    this.checksums = new Uint32Array(capacity);
  }

  /**
   * Memory layout for the kernel: query, then one score per slot, then the vectors, then (with
   * helper threads) one score region per helper. Shared memory only when there are helpers.
   */
  private static createKernel(dimension: number, capacity: number, helpers: number): Pelm["kernel"] {
    const scoresAt = dimension * 4;
    const scoreBytes = Math.ceil((capacity * 4) / 16) * 16;
    const vectorsAt = scoresAt + scoreBytes;
    const scratch = { at: vectorsAt + capacity * dimension * 4, bytes: helpers * scoreBytes };
    const instance = createDotKernel(scratch.at + scratch.bytes, { shared: helpers > 0 });
    if (!instance) return undefined;
    const scores = new Float32Array(instance.memory.buffer, scoresAt, capacity);
    return { dots: instance.dots, memory: instance.memory, instance, scratch, scores, scoresAt, vectorsAt };
  }

  /** The helpers' `dots`, bound once (undefined without helpers, shared memory or a binding). */
  private helperDots(): DotKernel | undefined {
    if (this.parallelDots === undefined) {
      const kernel = this.kernel;
      this.parallelDots =
        this.parallel && kernel?.instance.shared
          ? (this.parallel.bind({
              module: kernel.instance.module,
              memory: kernel.memory,
              dots: kernel.dots,
              scratch: kernel.scratch,
            }) ?? null)
          : null;
    }
    return this.parallelDots ?? undefined;
  }

  /** Whether retrieval can split large scans between threads. */
  get parallelScan(): boolean {
    return this.helperDots() !== undefined;
  }

  /** Whether retrieval runs on the WebAssembly SIMD kernel (else the TypeScript loop). */
  get accelerated(): boolean {
    return this.kernel !== undefined;
  }

  /** Entries stored (≤ capacity). */
  get size(): number {
    return this.sizeValue;
  }

  /** Slot the next entry goes to. */
  get pointer(): number {
    return this.pointerValue;
  }

  /** Bytes of every typed array this memory holds. */
  memoryUsageBytes(): number {
    const vectorBytes = this.kernel
      ? this.kernel.memory.buffer.byteLength
      : this.vectors.byteLength + this.query.byteLength;
    return (
      vectorBytes +
      this.phases.byteLength +
      this.norms.byteLength +
      this.seqs.byteLength +
      this.checksums.byteLength +
      this.heapSlots.byteLength +
      this.heapScores.byteLength
    );
  }

  /** Capacity, fill and bytes. */
  stats(): { capacity: number; used: number; memoryBytes: number } {
    return { capacity: this.capacity, used: this.sizeValue, memoryBytes: this.memoryUsageBytes() };
  }

  /**
   * Validates `vector` (length, finite values, non-zero norm) and returns its Euclidean norm;
   * throws PelmValidationError. Callers that must not mutate anything before a refusal (the
   * controller) call it first.
   */
  checkVector(vector: Float32Array | readonly number[]): number {
    if (vector.length !== this.dimension) {
      throw new PelmValidationError(
        `vector has ${vector.length} values, expected ${this.dimension}`,
        "vector",
      );
    }
    let sum = 0;
    for (let i = 0; i < this.dimension; i++) {
      const x = vector[i] ?? Number.NaN;
      if (!Number.isFinite(x)) throw new PelmValidationError(`vector[${i}] is not finite`, "vector", i);
      const f = Math.fround(x);
      sum += f * f;
    }
    const norm = Math.sqrt(sum);
    if (norm < MIN_NORM) throw new PelmValidationError("vector has zero norm (no direction)", "vector");
    return norm;
  }

  private static checkPhase(phase: number): void {
    if (!Number.isFinite(phase) || phase < 0 || phase > 1) {
      throw new PelmValidationError(`phase must be a finite number in [0, 1], got ${phase}`, "phase");
    }
  }

  /** Stores `vector` at `phase`, overwriting the oldest entry when full; returns the slot. */
  entangle(vector: Float32Array | readonly number[], phase: number): number {
    return this.entangleChecked(vector, this.checkVector(vector), phase);
  }

  /**
   * `entangle` for a caller that already ran `checkVector` (whose result is `norm`), so the
   * event path does not validate the same vector twice. The phase is still checked.
   */
  entangleChecked(vector: Float32Array | readonly number[], norm: number, phase: number): number {
    Pelm.checkPhase(phase);
    const slot = this.pointerValue;
    const offset = slot * this.dimension;
    const inverse = 1 / norm;
    for (let i = 0; i < this.dimension; i++) this.vectors[offset + i] = (vector[i] ?? 0) * inverse;
    this.phases[slot] = phase;
    this.norms[slot] = norm;
    this.sequence = (this.sequence + 1) >>> 0;
    this.seqs[slot] = this.sequence;
    this.checksums[slot] = slotChecksum(this.words, offset, this.dimension, this.phases[slot] ?? 0);
    this.pointerValue = (slot + 1) % this.capacity;
    this.sizeValue = Math.min(this.sizeValue + 1, this.capacity);
    return slot;
  }

  /** Newer entry first on equal resonance (W16: stable, recency tie-break). */
  private better(scoreA: number, slotA: number, scoreB: number, slotB: number): boolean {
    if (scoreA !== scoreB) return scoreA > scoreB;
    return (this.seqs[slotA] ?? 0) > (this.seqs[slotB] ?? 0);
  }

  /** Offers one scored slot to the top-k min-heap (root = worst kept); returns the new count. */
  private offer(score: number, slot: number, count: number, topK: number): number {
    const heapSlots = this.heapSlots;
    const heapScores = this.heapScores;
    if (count < topK) {
      // Sift up into the min-heap (root = worst kept).
      let at = count;
      count += 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        const ps = heapScores[parent] ?? 0;
        const pslot = heapSlots[parent] ?? 0;
        if (!this.better(ps, pslot, score, slot)) break;
        heapScores[at] = ps;
        heapSlots[at] = pslot;
        at = parent;
      }
      heapScores[at] = score;
      heapSlots[at] = slot;
    } else if (this.better(score, slot, heapScores[0] ?? 0, heapSlots[0] ?? 0)) {
      // Replace the root and sift down.
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= count) break;
        const right = left + 1;
        let child = left;
        if (
          right < count &&
          this.better(
            heapScores[left] ?? 0,
            heapSlots[left] ?? 0,
            heapScores[right] ?? 0,
            heapSlots[right] ?? 0,
          )
        ) {
          child = right;
        }
        const cs = heapScores[child] ?? 0;
        const cslot = heapSlots[child] ?? 0;
        if (!this.better(score, slot, cs, cslot)) break;
        heapScores[at] = cs;
        heapSlots[at] = cslot;
        at = child;
      }
      heapScores[at] = score;
      heapSlots[at] = slot;
    }

    return count;
  }

  /** Top-k entries by cosine similarity among those within `tolerance` of `phase`. */
  retrieve(
    query: Float32Array | readonly number[],
    phase: number,
    options: { tolerance?: number; topK?: number; includeVectors?: boolean } = {},
  ): PelmMatch[] {
    const tolerance = options.tolerance ?? PELM_DEFAULTS.phaseTolerance;
    const topK = options.topK ?? PELM_DEFAULTS.topK;
    if (!Number.isSafeInteger(topK) || topK < 0 || topK > PELM_MAX_TOP_K) {
      throw new PelmValidationError(`topK must be an integer from 0 to ${PELM_MAX_TOP_K}`, "topK");
    }
    if (!Number.isFinite(tolerance) || tolerance < 0) {
      throw new PelmValidationError("tolerance must be a finite number ≥ 0", "tolerance");
    }
    const norm = this.checkVector(query);
    Pelm.checkPhase(phase);
    if (topK === 0 || this.sizeValue === 0) return [];
    const q = this.query;
    const inverse = 1 / norm;
    for (let i = 0; i < this.dimension; i++) q[i] = (query[i] ?? 0) * inverse;

    const dim = this.dimension;
    const data = this.vectors;
    const heapSlots = this.heapSlots;
    const heapScores = this.heapScores;
    let count = 0;
    const lo = phase - tolerance;
    const hi = phase + tolerance;
    const phases = this.phases;
    const size = this.sizeValue;
    const kernel = this.kernel;
    const helpers = kernel && size >= PELM_PARALLEL_MIN_ROWS ? this.helperDots() : undefined;
    if (kernel && helpers && inPhaseCount(phases, size, lo, hi) * 2 >= size) {
      // Mostly in phase: every row is scored, split between threads, then the in-phase ones offered.
      helpers(0, kernel.vectorsAt, size, dim * 4, kernel.scoresAt);
      const scores = kernel.scores;
      for (let slot = 0; slot < size; slot++) {
        if (inPhase(phases, slot, lo, hi)) count = this.offer(scores[slot] ?? 0, slot, count, topK);
      }
    } else if (kernel) {
      // Runs of consecutive in-phase slots go to the SIMD kernel in one call each.
      const rowBytes = dim * 4;
      for (let start = 0; start < size;) {
        if (!inPhase(phases, start, lo, hi)) {
          start++;
          continue;
        }
        let end = start + 1;
        while (end < size && inPhase(phases, end, lo, hi)) end++;
        kernel.dots(
          0,
          kernel.vectorsAt + start * rowBytes,
          end - start,
          rowBytes,
          kernel.scoresAt + start * 4,
        );
        for (let slot = start; slot < end; slot++)
          count = this.offer(kernel.scores[slot] ?? 0, slot, count, topK);
        start = end;
      }
    } else {
      for (let slot = 0; slot < size; slot++) {
        if (inPhase(phases, slot, lo, hi))
          count = this.offer(dot(data, slot * dim, q, dim), slot, count, topK);
      }
    }
    const order = Array.from({ length: count }, (_, i) => i);
    order.sort((x, y) => {
      const sx = heapScores[x] ?? 0;
      const sy = heapScores[y] ?? 0;
      const slx = heapSlots[x] ?? 0;
      const sly = heapSlots[y] ?? 0;
      return this.better(sx, slx, sy, sly) ? -1 : this.better(sy, sly, sx, slx) ? 1 : 0;
    });
    return order.map((i) => {
      const slot = heapSlots[i] ?? 0;
      const resonance = Math.max(-1, Math.min(1, heapScores[i] ?? 0));
      const match: PelmMatch = { slot, phase: this.phases[slot] ?? Number.NaN, resonance };
      if (!options.includeVectors) return match;
      const norm = this.norms[slot] ?? 1;
      const vector = this.vectors.slice(slot * dim, slot * dim + dim);
      for (let k = 0; k < dim; k++) vector[k] = (vector[k] ?? 0) * norm;
      return { ...match, vector };
    });
  }

  /** Checks every used slot's checksum: O(size × dimension); for snapshots and sweeps only. */
  verify(): { ok: boolean; corruptSlots: number[] } {
    const corruptSlots: number[] = [];
    for (let slot = 0; slot < this.sizeValue; slot++) {
      const phase = this.phases[slot] ?? Number.NaN;
      if (Number.isNaN(phase)) continue; // already dropped
      const sum = slotChecksum(this.words, slot * this.dimension, this.dimension, phase);
      if (sum !== this.checksums[slot]) corruptSlots.push(slot);
    }
    return { ok: corruptSlots.length === 0, corruptSlots };
  }

  /** Structural check (pointer and size in range) plus `verify()`. */
  detectCorruption(): boolean {
    const structural =
      this.pointerValue < 0 ||
      this.pointerValue >= this.capacity ||
      this.sizeValue < 0 ||
      this.sizeValue > this.capacity;
    return structural || !this.verify().ok;
  }

  /** Removes corrupt slots from service (never re-blesses their content). */
  repair(): { dropped: number[] } {
    this.sizeValue = Math.max(0, Math.min(this.sizeValue, this.capacity));
    if (this.pointerValue < 0 || this.pointerValue >= this.capacity) {
      this.pointerValue = this.sizeValue % this.capacity;
    }
    const { corruptSlots } = this.verify();
    for (const slot of corruptSlots) this.phases[slot] = DROPPED_PHASE;
    return { dropped: corruptSlots };
  }

  /** Writes a "PELM" v1 section: header, then the used slots' raw bytes. */
  snapshot(writer: BinaryWriter): void {
    const used = this.sizeValue;
    writer.section("PELM", 1);
    writer.u32(this.dimension).u32(this.capacity).u32(this.pointerValue).u32(used).u32(this.sequence);
    writer.f32s(this.vectors.subarray(0, used * this.dimension));
    writer.f32s(this.phases.subarray(0, used));
    writer.f32s(this.norms.subarray(0, used));
    writer.u32s(this.seqs.subarray(0, used));
    writer.u32s(this.checksums.subarray(0, used));
  }

  /** Reads a "PELM" section; refuses a snapshot whose checksums do not match its content. */
  static restore(reader: BinaryReader, options: { parallel?: ParallelScan } = {}): Pelm {
    reader.section("PELM", [1]);
    const dimension = reader.u32();
    const capacity = reader.u32();
    const pointer = reader.u32();
    const used = reader.u32();
    const sequence = reader.u32();
    if (used > capacity || pointer >= capacity) {
      throw new SnapshotFormatError(
        `PELM snapshot has pointer ${pointer} / size ${used} beyond capacity ${capacity}`,
      );
    }
    const pelm = new Pelm({
      dimension,
      capacity,
      ...(options.parallel ? { parallel: options.parallel } : {}),
    });
    pelm.vectors.set(reader.f32s(used * dimension));
    pelm.phases.set(reader.f32s(used));
    pelm.norms.set(reader.f32s(used));
    pelm.seqs.set(reader.u32s(used));
    pelm.checksums.set(reader.u32s(used));
    pelm.pointerValue = pointer;
    pelm.sizeValue = used;
    pelm.sequence = sequence;
    const { ok, corruptSlots } = pelm.verify();
    if (!ok)
      throw new SnapshotFormatError(
        `PELM snapshot is corrupt: ${corruptSlots.length} slot(s) fail their checksum`,
      );
    return pelm;
  }
}
