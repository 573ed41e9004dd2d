/**
 * PELM against core.md §4 and invariants 7–10, with the fixes of W6 (per-slot integrity, no
 * re-blessing) and W16 (typed arrays accepted, queries validated, recency tie-break).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BinaryReader, BinaryWriter, SnapshotFormatError } from "../../src/core/binary.js";
import { Pelm, PelmValidationError } from "../../src/core/pelm.js";

const DIM = 6;
const finiteVector = fc
  .array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: DIM, maxLength: DIM })
  .filter((v) => Math.hypot(...v) > 1e-3);

function naiveTopK(
  stored: { v: number[]; phase: number }[],
  q: number[],
  phase: number,
  k: number,
): number[] {
  const qn = Math.hypot(...q);
  return stored
    .map((s, slot) => ({ slot, s }))
    .filter(({ s }) => Math.abs(Math.fround(s.phase) - phase) <= 0.15)
    .map(({ slot, s }) => ({
      slot,
      score: s.v.reduce((a, x, i) => a + x * (q[i] ?? 0), 0) / (Math.hypot(...s.v) * qn),
    }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((x) => x.score);
}

function snapshotOf(pelm: Pelm): Uint8Array {
  const writer = new BinaryWriter();
  pelm.snapshot(writer);
  return writer.finish();
}

describe("PELM", () => {
  it("ring buffer: size = min(n, capacity), pointer = n mod capacity, the (capacity+1)-th insert overwrites slot 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), (capacity, n) => {
        const pelm = new Pelm({ dimension: DIM, capacity });
        const slots: number[] = [];
        for (let i = 0; i < n; i++) slots.push(pelm.entangle([1, i + 1, 0, 0, 0, 0], 0.1));
        expect(pelm.size).toBe(Math.min(n, capacity));
        expect(pelm.pointer).toBe(n % capacity);
        if (n > capacity) expect(slots[capacity]).toBe(0);
      }),
    );
  });

  it("retrieve: ≤ k results, sorted, in phase, resonance in [-1, 1], equal to a naive scan", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ v: finiteVector, phase: fc.constantFrom(0.1, 0.9, 0.2, 0.5) }), {
          maxLength: 40,
        }),
        finiteVector,
        fc.constantFrom(0.1, 0.9),
        fc.integer({ min: 0, max: 10 }),
        (stored, q, phase, k) => {
          const pelm = new Pelm({ dimension: DIM, capacity: 64 });
          for (const s of stored) pelm.entangle(s.v, s.phase);
          const result = pelm.retrieve(q, phase, { topK: k });
          expect(result.length).toBeLessThanOrEqual(k);
          for (let i = 1; i < result.length; i++) {
            expect(result[i - 1]!.resonance).toBeGreaterThanOrEqual(result[i]!.resonance);
          }
          for (const r of result) {
            expect(Math.abs(r.phase - phase)).toBeLessThanOrEqual(0.15 + 1e-7);
            expect(Math.abs(r.resonance)).toBeLessThanOrEqual(1);
          }
          const expected = naiveTopK(stored, q, phase, k);
          expect(result.map((r) => r.resonance)).toHaveLength(expected.length);
          result.forEach((r, i) => {
            expect(r.resonance).toBeCloseTo(expected[i]!, 4);
          });
        },
      ),
    );
  });

  it("an exact stored vector comes first with resonance ≈ 1; wake and sleep memories never mix", () => {
    const pelm = new Pelm({ dimension: DIM, capacity: 10 });
    pelm.entangle([1, 2, 3, 4, 5, 6], 0.1);
    pelm.entangle(Float32Array.of(6, 5, 4, 3, 2, 1), 0.1);
    pelm.entangle([1, 2, 3, 4, 5, 6], 0.9);
    const wake = pelm.retrieve([1, 2, 3, 4, 5, 6], 0.1, { topK: 5, includeVectors: true });
    expect(wake.map((m) => m.slot)).toEqual([0, 1]);
    expect(wake[0]!.resonance).toBeCloseTo(1, 6);
    expect(Array.from(wake[0]!.vector!).map((x) => Math.round(x * 1e4) / 1e4)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(pelm.retrieve([1, 2, 3, 4, 5, 6], 0.9, { topK: 5 }).map((m) => m.slot)).toEqual([2]);
    expect(new Pelm({ dimension: DIM, capacity: 2 }).retrieve([1, 0, 0, 0, 0, 0], 0.1)).toEqual([]);
  });

  it("W16: equal resonance → newest first", () => {
    const pelm = new Pelm({ dimension: DIM, capacity: 10 });
    for (let i = 0; i < 4; i++) pelm.entangle([0, 0, 1, 0, 0, 0], 0.1);
    expect(pelm.retrieve([0, 0, 2, 0, 0, 0], 0.1, { topK: 4 }).map((m) => m.slot)).toEqual([3, 2, 1, 0]);
  });

  it("invalid input throws and leaves the store unchanged (invariant 9)", () => {
    const pelm = new Pelm({ dimension: DIM, capacity: 4 });
    pelm.entangle([1, 1, 1, 1, 1, 1], 0.1);
    const before = Buffer.from(snapshotOf(pelm));
    const bad: [number[], number][] = [
      [[1, 1, 1, 1, 1], 0.1],
      [[1, 1, Number.NaN, 1, 1, 1], 0.1],
      [[1, 1, 1, Number.POSITIVE_INFINITY, 1, 1], 0.1],
      [[0, 0, 0, 0, 0, 0], 0.1],
      [[1, 1, 1, 1, 1, 1], 1.01],
      [[1, 1, 1, 1, 1, 1], Number.NaN],
    ];
    for (const [v, phase] of bad) expect(() => pelm.entangle(v, phase)).toThrow(PelmValidationError);
    expect(() => pelm.retrieve([1, 1, 1, 1, 1, Number.NaN], 0.1)).toThrow(/vector\[5\]/);
    expect(Buffer.from(snapshotOf(pelm)).equals(before)).toBe(true);
  });

  it("W6: a tampered snapshot is refused; a tampered slot is found by verify, dropped by repair, never returned", () => {
    const pelm = new Pelm({ dimension: DIM, capacity: 4 });
    pelm.entangle([1, 0, 0, 0, 0, 0], 0.1);
    pelm.entangle([0, 1, 0, 0, 0, 0], 0.1);
    expect(pelm.verify()).toEqual({ ok: true, corruptSlots: [] });
    const bytes = snapshotOf(pelm);
    // Tamper the first stored float of slot 1 (header 4+4+5×4 bytes, then a u32 count).
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const firstFloat = 8 + 20 + 4;
    view.setFloat32(firstFloat + DIM * 4, 0.5, true);
    expect(() => Pelm.restore(new BinaryReader(bytes))).toThrow(SnapshotFormatError);
    // In memory: tamper slot 1 through the private array (test-only access).
    const internals = pelm as unknown as { vectors: Float32Array };
    internals.vectors[DIM] = 0.5;
    expect(pelm.verify()).toEqual({ ok: false, corruptSlots: [1] });
    expect(pelm.detectCorruption()).toBe(true);
    expect(pelm.repair()).toEqual({ dropped: [1] });
    expect(pelm.verify().ok).toBe(true);
    const hits = pelm.retrieve([0.5, 1, 0, 0, 0, 0], 0.1, { topK: 5 }).map((m) => m.slot);
    expect(hits).toEqual([0]);
  });

  it("snapshot/restore is bit-for-bit and behaves identically", () => {
    fc.assert(
      fc.property(fc.array(finiteVector, { maxLength: 30 }), finiteVector, (vectors, q) => {
        const pelm = new Pelm({ dimension: DIM, capacity: 16 });
        for (const v of vectors) pelm.entangle(v, 0.1);
        const bytes = snapshotOf(pelm);
        const restored = Pelm.restore(new BinaryReader(bytes));
        expect(Buffer.from(snapshotOf(restored)).equals(Buffer.from(bytes))).toBe(true);
        expect(restored.retrieve(q, 0.1, { topK: 5 })).toEqual(pelm.retrieve(q, 0.1, { topK: 5 }));
      }),
    );
  });

  it("the WebAssembly SIMD scan (dimension a multiple of 16) gives the naive scan's top-k, across phase gaps", () => {
    const dim = 32;
    const vec = fc
      .array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: dim, maxLength: dim })
      .filter((v) => Math.hypot(...v) > 1e-3);
    fc.assert(
      fc.property(
        fc.array(fc.record({ v: vec, phase: fc.constantFrom(0.1, 0.9, 0.15) }), { maxLength: 60 }),
        vec,
        fc.integer({ min: 1, max: 12 }),
        (stored, q, k) => {
          const pelm = new Pelm({ dimension: dim, capacity: 64 });
          expect(pelm.accelerated).toBe(true);
          for (const s of stored) pelm.entangle(s.v, s.phase);
          const got = pelm.retrieve(q, 0.1, { topK: k }).map((m) => m.resonance);
          const expected = naiveTopK(stored, q, 0.1, k);
          expect(got).toHaveLength(expected.length);
          got.forEach((r, i) => {
            expect(r).toBeCloseTo(expected[i]!, 4);
          });
        },
      ),
      { numRuns: 200 },
    );
    expect(new Pelm({ dimension: DIM, capacity: 4 }).accelerated).toBe(false);
  });

  it("the default store (20,000 × 384) stays within 1.1 × the raw vector bytes", () => {
    const pelm = new Pelm();
    expect(pelm.memoryUsageBytes()).toBeLessThanOrEqual(1.1 * 20_000 * 384 * 4);
    expect(() => new Pelm({ capacity: 1_000_001 })).toThrow(/MB/);
  });
});
