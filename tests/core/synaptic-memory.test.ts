/**
 * Multi-level synaptic memory (core.md §3): constants and ranges, hand-computed float32
 * decay and transfer arithmetic, golden values produced by the reference's NumPy code (so
 * the float32 rounding must match bit for bit), and invariant 6 of core.md §12 as properties.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BinaryReader, BinaryWriter, SnapshotFormatError } from "../../src/core/binary.js";
import {
  SYNAPTIC_DEFAULTS,
  SynapticMemory,
  type SynapticLevels,
  type SynapticOptions,
} from "../../src/core/synaptic-memory.js";

const f = Math.fround;

function bits(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

function allBits(memory: SynapticMemory): number[] {
  const { l1, l2, l3 } = memory.levels();
  return [...bits(l1), ...bits(l2), ...bits(l3)];
}

function snapshotBytes(memory: SynapticMemory): Uint8Array {
  const writer = new BinaryWriter();
  memory.snapshot(writer);
  return writer.finish();
}

/** Events of `dimension` finite float32 values in [-limit, limit]. */
function eventArb(dimension: number, limit = 1000): fc.Arbitrary<Float32Array> {
  return fc.float32Array({
    minLength: dimension,
    maxLength: dimension,
    min: -limit,
    max: limit,
    noNaN: true,
    noDefaultInfinity: true,
  });
}

/** Valid options at a small dimension. */
const optionsArb: fc.Arbitrary<SynapticOptions> = fc.record({
  dimension: fc.integer({ min: 1, max: 8 }),
  lambdaL1: fc.double({ min: 1e-3, max: 1, noNaN: true }),
  lambdaL2: fc.double({ min: 1e-3, max: 1, noNaN: true }),
  lambdaL3: fc.double({ min: 1e-3, max: 1, noNaN: true }),
  thetaL1: fc.double({ min: 1e-3, max: 5, noNaN: true }),
  thetaL2: fc.double({ min: 1e-3, max: 5, noNaN: true }),
  gating12: fc.double({ min: 0, max: 1, noNaN: true }),
  gating23: fc.double({ min: 0, max: 1, noNaN: true }),
});

/** Options plus event sequences at their dimension. */
const scenarioArb = optionsArb.chain((options) =>
  fc.record({
    options: fc.constant(options),
    before: fc.array(eventArb(options.dimension, 20), { maxLength: 30 }),
    after: fc.array(eventArb(options.dimension, 20), { maxLength: 30 }),
  }),
);

describe("SynapticMemory constants", () => {
  it("pins the reference's calibration", () => {
    expect(SYNAPTIC_DEFAULTS).toEqual({
      dimension: 384,
      lambdaL1: 0.5,
      lambdaL2: 0.1,
      lambdaL3: 0.01,
      thetaL1: 1.2,
      thetaL2: 2.5,
      gating12: 0.45,
      gating23: 0.3,
    });
    const memory = new SynapticMemory();
    expect(memory.dimension).toBe(384);
    expect(memory.norms()).toEqual({ l1: 0, l2: 0, l3: 0 });
  });

  it("estimates memory as floor((3·dim·4 + 512) × 1.15)", () => {
    expect(new SynapticMemory().memoryUsageBytes()).toBe(5888);
    expect(new SynapticMemory({ dimension: 10 }).memoryUsageBytes()).toBe(726);
    expect(new SynapticMemory({ dimension: 1 }).memoryUsageBytes()).toBe(602);
  });

  it.each([
    ["dimension", { dimension: 0 }],
    ["dimension", { dimension: 3.5 }],
    ["lambdaL1", { lambdaL1: 0 }],
    ["lambdaL2", { lambdaL2: 1.01 }],
    ["lambdaL3", { lambdaL3: Number.NaN }],
    ["thetaL1", { thetaL1: 0 }],
    ["thetaL2", { thetaL2: Number.POSITIVE_INFINITY }],
    ["gating12", { gating12: -0.1 }],
    ["gating23", { gating23: 1.5 }],
  ] as const)("refuses an out-of-range %s", (name, options) => {
    expect(() => new SynapticMemory(options)).toThrow(RangeError);
    expect(() => new SynapticMemory(options)).toThrow(name);
  });

  it("accepts the range boundaries and treats undefined as default", () => {
    const memory = new SynapticMemory({ lambdaL1: 1, gating12: 0, gating23: 1, lambdaL2: undefined });
    expect(memory.options.lambdaL2).toBe(0.1);
  });
});

describe("SynapticMemory arithmetic (hand-computed float32)", () => {
  it("stores the first event in L1 and decays each level by float32(1 − λ)", () => {
    const memory = new SynapticMemory({ dimension: 4, lambdaL1: 0.3 });
    const event = Float32Array.from([1, -1, 0.3, 0.7]);
    memory.update(event);
    expect(memory.levels().l1).toEqual(event);
    memory.update(new Float32Array(4));
    const keep = f(1 - 0.3);
    expect(bits(memory.levels().l1)).toEqual(bits(Float32Array.from(event, (x) => f(x * keep))));
  });

  it("transfers L1 → L2 only where L1 > 1.2 (strict, signed, compared in float32)", () => {
    const memory = new SynapticMemory({ dimension: 4 });
    const justAbove = f(1.2000002);
    expect(justAbove).toBeGreaterThan(f(1.2));
    memory.update(Float32Array.from([f(1.2), 1.25, -5, justAbove]));
    const g12 = f(0.45);
    const t1 = f(1.25 * g12);
    const t3 = f(justAbove * g12);
    const { l1, l2, l3 } = memory.levels();
    // float32(1.2) is not above float32(1.2): no transfer, as in NumPy (a double compare would move it).
    expect(bits(l1)).toEqual(bits(Float32Array.from([f(1.2), f(1.25 - t1), -5, f(justAbove - t3)])));
    expect(bits(l2)).toEqual(bits(Float32Array.from([0, t1, 0, t3])));
    expect(l3).toEqual(new Float32Array(4));
  });

  it("transfers L2 → L3 only where L2 (after the L1 → L2 transfer) > 2.5", () => {
    const memory = new SynapticMemory({ dimension: 4 });
    memory.update(Float32Array.from([5.5, 10, 0, 0]));
    const g12 = f(0.45);
    const g23 = f(0.3);
    const low = f(5.5 * g12); // ≈ 2.475: stays in L2
    const high = f(10 * g12); // ≈ 4.5: 30 % moves on to L3
    expect(low).toBeLessThan(2.5);
    const t23 = f(high * g23);
    const { l1, l2, l3 } = memory.levels();
    expect(bits(l1)).toEqual(bits(Float32Array.from([f(5.5 - low), f(10 - high), 0, 0])));
    expect(bits(l2)).toEqual(bits(Float32Array.from([low, f(high - t23), 0, 0])));
    expect(bits(l3)).toEqual(bits(Float32Array.from([0, t23, 0, 0])));
    // One more (empty) event: everything decays first, then transfers use the decayed values.
    memory.update(new Float32Array(4));
    const a = f(f(10 - high) * f(0.5)); // ≈ 2.75 > 1.2: transfers again
    const ta = f(a * g12);
    const b = f(f(f(high - t23) * f(0.9)) + ta);
    const tb = f(b * g23);
    const after = memory.levels();
    expect(after.l1[1]).toBe(f(a - ta));
    expect(after.l2[1]).toBe(f(b - tb));
    expect(after.l3[1]).toBe(f(f(t23 * f(0.99)) + tb));
    // Component 0: L1 ≈ 3.025 decays to ≈ 1.51 > 1.2 and transfers again, which lifts its L2
    // (≈ 2.23 after decay) above 2.5, so it now reaches L3 as well.
    const a0 = f(f(5.5 - low) * f(0.5));
    const ta0 = f(a0 * g12);
    const b0 = f(f(low * f(0.9)) + ta0);
    expect(b0).toBeGreaterThan(2.5);
    const tb0 = f(b0 * g23);
    expect([after.l1[0], after.l2[0], after.l3[0]]).toEqual([f(a0 - ta0), f(b0 - tb0), tb0]);
  });

  it("reaches the steady state 2x in L1 for a repeated component below the threshold", () => {
    const memory = new SynapticMemory({ dimension: 4 });
    const x = Float32Array.from([0.5, -0.3, 0.25, 0.6]);
    for (let i = 0; i < 60; i++) memory.update(x);
    const { l1, l2, l3 } = memory.levels();
    expect(bits(l1)).toEqual(bits(Float32Array.from(x, (v) => 2 * v)));
    // 2·float32(0.6) is exactly float32(1.2): never strictly above, so nothing transferred.
    expect(l2).toEqual(new Float32Array(4));
    expect(l3).toEqual(new Float32Array(4));
  });

  it("matches the reference's NumPy float32 results bit for bit on a short sequence", () => {
    // Produced by the reference's update() (NumPy 2.4, float32) on these events, dimension 4;
    // each row is L1, L2, L3 after one event, as float32 bit patterns.
    const events = [
      [3.0, -2.0, f(1.2), 0.1],
      [3.0, 1.3, 1.25, -0.7],
      [5.0, 0.0, 0.6, 1e-3],
      [0, 0, 0, 0],
      [2.5, 2.5, 2.5, 2.5],
      [-1e-3, 0.333, 7.77, 0.05],
    ];
    // prettier-ignore
    const expected = [
      [0x3fd33334, 0xc0000000, 0x3f99999a, 0x3dcccccd, 0x3faccccc, 0, 0, 0, 0, 0, 0, 0],
      [0x4006a3d8, 0x3e999998, 0x3f823d71, 0xbf266666, 0x40038b43, 0, 0x3f551eb8, 0, 0x3f618105, 0, 0, 0],
      [0x405506a9, 0x3e199998, 0x3f8deb86, 0xbea5e354, 0x404ce0e6, 0, 0x3f3fced8, 0, 0x400f9e09, 0, 0, 0],
      [0x3f6a5421, 0x3d999998, 0x3f0deb86, 0xbe25e354, 0x4022a003, 0, 0x3f2ca08f, 0, 0x4053e0ab, 0, 0, 0],
      [
        0x3fd0385e, 0x3fb2a3d7, 0x3fc38396, 0x3faa4c2f, 0x40221499, 0x3f9228f5, 0x3feda5f2, 0x3f8b559b,
        0x408b9c67, 0, 0, 0,
      ],
      [
        0x3f4ff6d5, 0x3f83f1aa, 0x40963190, 0x3f3718fc, 0x4011df56, 0x3f838b43, 0x4076e62c, 0x3f7acd4a,
        0x408a3700, 0, 0x3fd3a0b9, 0,
      ],
    ];
    const memory = new SynapticMemory({ dimension: 4 });
    events.forEach((event, i) => {
      memory.update(Float32Array.from(event));
      expect(allBits(memory)).toEqual(expected[i]);
    });
  });

  it("matches the reference's NumPy float32 state after 200 events at dimension 384", () => {
    // Events from a 31-bit LCG, float32(((x >> 8) mod 2001 − 800) / 400); the reference ends
    // with 28,908 L1 → L2 and 17,164 L2 → L3 component transfers and this SHA-256 of L1‖L2‖L3.
    const memory = new SynapticMemory();
    const event = new Float32Array(384);
    let x = 12345;
    for (let t = 0; t < 200; t++) {
      for (let i = 0; i < 384; i++) {
        x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
        event[i] = (((x >> 8) % 2001) - 800) / 400;
      }
      memory.update(event);
    }
    const { l1, l2, l3 } = memory.levels();
    const hash = createHash("sha256")
      .update(new Uint8Array(l1.buffer))
      .update(new Uint8Array(l2.buffer))
      .update(new Uint8Array(l3.buffer))
      .digest("hex");
    expect(hash).toBe("a1e66bdc21a529daa8ae94acbf603fa5520c80eb7ab521e8ab04c5c403d49fec");
  });

  it("turns −0 into +0 where no transfer happens, as the reference's masked subtraction does", () => {
    const memory = new SynapticMemory({ dimension: 1 });
    memory.update(Float32Array.from([-1e-45])); // the smallest negative subnormal
    memory.update(Float32Array.from([-0])); // decays to −0, plus −0 stays −0; then −0 − (0·−0) = +0
    expect(Object.is(memory.levels().l1[0], 0)).toBe(true);
  });
});

describe("SynapticMemory API", () => {
  it("refuses an event of the wrong length without changing state", () => {
    const memory = new SynapticMemory({ dimension: 4 });
    memory.update(Float32Array.from([1, 2, 3, 4]));
    const before = allBits(memory);
    expect(() => {
      memory.update(new Float32Array(5));
    }).toThrow(RangeError);
    expect(() => {
      memory.update(new Float32Array(3));
    }).toThrow("expected 4");
    expect(allBits(memory)).toEqual(before);
  });

  it("hands out copies of the levels, computes Euclidean norms and resets to zero", () => {
    const memory = new SynapticMemory({ dimension: 2 });
    memory.update(Float32Array.from([3, 4]));
    const levels = memory.levels();
    levels.l1[0] = 99;
    const l1 = memory.levels().l1;
    expect(Array.from(l1)).toEqual([f(3 - f(3 * f(0.45))), f(4 - f(4 * f(0.45)))]);
    expect(memory.norms().l1).toBe(Math.hypot(l1[0]!, l1[1]!));
    expect(memory.norms().l2).toBeCloseTo(0.45 * 5, 6);
    memory.reset();
    expect(memory.norms()).toEqual({ l1: 0, l2: 0, l3: 0 });
    expect(allBits(memory)).toEqual(new Array<number>(6).fill(0));
  });
});

describe("SynapticMemory invariants (core.md §12.6)", () => {
  it("norms() after any updates, a reset or a restore equal a fresh pass over the levels", () => {
    // update() keeps the norms it computed on the way (ADR 0021); they must be the ones a
    // separate double-precision pass over the float32 levels gives, bit for bit.
    const pass = (values: Float32Array): number => {
      let sum = 0;
      for (const value of values) sum += value * value;
      return Math.sqrt(sum);
    };
    const expected = (memory: SynapticMemory) => {
      const l = memory.levels();
      return { l1: pass(l.l1), l2: pass(l.l2), l3: pass(l.l3) };
    };
    fc.assert(
      fc.property(scenarioArb, fc.boolean(), ({ options, before }, reset) => {
        const memory = new SynapticMemory(options);
        expect(memory.norms()).toEqual(expected(memory));
        for (const event of before) {
          memory.update(event);
          expect(memory.norms()).toEqual(expected(memory));
        }
        if (reset) memory.reset();
        expect(memory.norms()).toEqual(expected(memory));
        const writer = new BinaryWriter();
        memory.snapshot(writer);
        const restored = SynapticMemory.restore(new BinaryReader(writer.finish()), options);
        expect(restored.norms()).toEqual(memory.norms());
      }),
    );
  });

  it("zero input: L1's norm and each component's mass |L1| + |L2| + |L3| never increase", () => {
    // Not |L1 + L2 + L3|: L1 may be negative while L2 is positive, and L1 decays faster, so the
    // signed sum can grow in magnitude; transfers only move positive mass, so the absolute mass
    // is what pure decay bounds.
    const mass = (l: SynapticLevels, i: number): number =>
      Math.abs(l.l1[i]!) + Math.abs(l.l2[i]!) + Math.abs(l.l3[i]!);
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 20 }), ({ options, before }, zeros) => {
        const memory = new SynapticMemory(options);
        for (const event of before) memory.update(event);
        const zero = new Float32Array(options.dimension);
        for (let k = 0; k < zeros; k++) {
          const prev = memory.levels();
          const prevNorm = memory.norms().l1;
          memory.update(zero);
          const next = memory.levels();
          expect(memory.norms().l1).toBeLessThanOrEqual(prevNorm);
          for (let i = 0; i < options.dimension; i++) {
            expect(mass(next, i)).toBeLessThanOrEqual(mass(prev, i) * (1 + 1e-6) + 1e-44);
          }
        }
      }),
    );
  });

  it("zero input without transfers (pure decay): no level's norm increases", () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 20 }), ({ options, before }, zeros) => {
        const filled = new SynapticMemory(options);
        for (const event of before) filled.update(event);
        // The same levels in a memory whose thresholds nothing reaches: only decay acts.
        const bytes = snapshotBytes(filled);
        const memory = SynapticMemory.restore(new BinaryReader(bytes), {
          ...options,
          thetaL1: 1e30,
          thetaL2: 1e30,
        });
        const zero = new Float32Array(options.dimension);
        for (let k = 0; k < zeros; k++) {
          const prev = memory.norms();
          memory.update(zero);
          const next = memory.norms();
          expect(next.l1).toBeLessThanOrEqual(prev.l1);
          expect(next.l2).toBeLessThanOrEqual(prev.l2);
          expect(next.l3).toBeLessThanOrEqual(prev.l3);
        }
      }),
    );
  });

  it("finite input keeps every value finite, and L2/L3 (fed only by transfers) non-negative", () => {
    fc.assert(
      fc.property(
        optionsArb.chain((options) =>
          fc.tuple(fc.constant(options), fc.array(eventArb(options.dimension, 1e6), { maxLength: 50 })),
        ),
        ([options, events]) => {
          const memory = new SynapticMemory(options);
          for (const event of events) {
            memory.update(event);
            const { l1, l2, l3 } = memory.levels();
            for (const v of [...l1, ...l2, ...l3]) expect(Number.isFinite(v)).toBe(true);
            for (const v of [...l2, ...l3]) expect(v).toBeGreaterThanOrEqual(0);
          }
          const norms = memory.norms();
          expect(Number.isFinite(norms.l1 + norms.l2 + norms.l3)).toBe(true);
        },
      ),
    );
  });

  it("transfers conserve mass: L1 + L2 + L3 after = decayed levels + event (float32 tolerance)", () => {
    fc.assert(
      fc.property(scenarioArb, ({ options, before, after }) => {
        const memory = new SynapticMemory(options);
        for (const event of before) memory.update(event);
        const keep = [f(1 - options.lambdaL1), f(1 - options.lambdaL2), f(1 - options.lambdaL3)] as const;
        for (const event of after) {
          const prev = memory.levels();
          memory.update(event);
          const next = memory.levels();
          for (let i = 0; i < options.dimension; i++) {
            const d1 = f(prev.l1[i]! * keep[0]);
            const d2 = f(prev.l2[i]! * keep[1]);
            const d3 = f(prev.l3[i]! * keep[2]);
            const e = event[i]!;
            const expected = d1 + d2 + d3 + e;
            const actual = next.l1[i]! + next.l2[i]! + next.l3[i]!;
            const scale = Math.abs(d1) + Math.abs(d2) + Math.abs(d3) + Math.abs(e);
            expect(Math.abs(actual - expected)).toBeLessThanOrEqual(scale * 5e-7 + 1e-44);
          }
        }
      }),
    );
  });
});

describe("SynapticMemory snapshots", () => {
  it("writes a SYNP v1 section holding the three levels as raw float32", () => {
    const memory = new SynapticMemory({ dimension: 2 });
    memory.update(Float32Array.from([3, -0.5]));
    const bytes = snapshotBytes(memory);
    expect(bytes.length).toBe(8 + 3 * (4 + 2 * 4));
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("SYNP");
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(4, true)).toBe(1);
    expect(view.getUint32(8, true)).toBe(2);
    expect(view.getFloat32(12, true)).toBe(memory.levels().l1[0]);
  });

  it("refuses a snapshot of another dimension, a wrong tag and truncation", () => {
    const bytes = snapshotBytes(new SynapticMemory({ dimension: 3 }));
    expect(() => SynapticMemory.restore(new BinaryReader(bytes), { dimension: 4 })).toThrow(
      SnapshotFormatError,
    );
    expect(() => SynapticMemory.restore(new BinaryReader(bytes.subarray(0, 30)), { dimension: 3 })).toThrow(
      SnapshotFormatError,
    );
    const wrongTag = bytes.slice();
    wrongTag[3] = "Q".charCodeAt(0);
    expect(() => SynapticMemory.restore(new BinaryReader(wrongTag), { dimension: 3 })).toThrow(
      SnapshotFormatError,
    );
  });

  it("property: restore(snapshot(x)) then the same events gives byte-identical levels", () => {
    fc.assert(
      fc.property(scenarioArb, ({ options, before, after }) => {
        const original = new SynapticMemory(options);
        for (const event of before) original.update(event);
        const bytes = snapshotBytes(original);
        const reader = new BinaryReader(bytes);
        const copy = SynapticMemory.restore(reader, options);
        expect(reader.done).toBe(true);
        expect(snapshotBytes(copy)).toEqual(bytes);
        for (const event of after) {
          original.update(event);
          copy.update(event);
          expect(allBits(copy)).toEqual(allBits(original));
        }
      }),
    );
  });
});
