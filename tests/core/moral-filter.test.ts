/**
 * The moral filter (core.md §1): the spec's constants and worked examples, a golden
 * trajectory computed by the reference's arithmetic in Python (IEEE doubles, so the values
 * must match bit for bit), and the invariants of core.md §12 (1–4) as properties.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BinaryReader, BinaryWriter, SnapshotFormatError } from "../../src/core/binary.js";
import { MORAL_FILTER_DEFAULTS, MoralFilter, type MoralFilterOptions } from "../../src/core/moral-filter.js";

/** Valid option sets: 0 ≤ min < max ≤ 1.2, alpha in (0, 1], any dead band and step. */
const optionsArb: fc.Arbitrary<MoralFilterOptions> = fc
  .record({
    min: fc.double({ min: 0, max: 0.6, noNaN: true }),
    gap: fc.double({ min: 0.01, max: 0.6, noNaN: true }),
    initialThreshold: fc.double({ min: -1, max: 2, noNaN: true }),
    deadBand: fc.double({ min: 0, max: 0.3, noNaN: true }),
    emaAlpha: fc.double({ min: 1e-4, max: 1, noNaN: true }),
    step: fc.double({ min: 1e-3, max: 0.3, noNaN: true }),
  })
  .map(({ min, gap, ...rest }) => ({ ...rest, minThreshold: min, maxThreshold: min + gap }));

/** An operation on a filter, for state-machine style properties. */
type Op = { kind: "adapt"; accepted: boolean } | { kind: "set"; value: number } | { kind: "reset" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.boolean().map((accepted): Op => ({ kind: "adapt", accepted })) },
  {
    weight: 1,
    arbitrary: fc.double({ min: -1, max: 2, noNaN: true }).map((value): Op => ({ kind: "set", value })),
  },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "reset" }) },
);

function apply(filter: MoralFilter, op: Op): void {
  if (op.kind === "adapt") filter.adapt(op.accepted);
  else if (op.kind === "set") filter.setThreshold(op.value);
  else filter.reset();
}

function snapshotBytes(filter: MoralFilter): Uint8Array {
  const writer = new BinaryWriter();
  filter.snapshot(writer);
  return writer.finish();
}

/** The reference's trajectory for this accept (A) / reject (R) sequence, from threshold 0.5. */
const GOLDEN_SEQUENCE =
  "AAAAAAAAAAAARRRRRRRRRRRRRRRRRRRRRRRRRRRRRRARARARARAARAARAARAARAARAARRRARRARRARRARRARRAAAAAA";
// prettier-ignore
const GOLDEN_THRESHOLDS = [
  0.55, 0.6000000000000001, 0.6500000000000001, 0.7000000000000002, 0.7500000000000002, 0.8000000000000003,
  0.8500000000000003, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.85, 0.7999999999999999,
  0.7499999999999999, 0.6999999999999998, 0.6499999999999998, 0.5999999999999998, 0.5499999999999997,
  0.4999999999999997, 0.44999999999999973, 0.39999999999999974, 0.34999999999999976, 0.3, 0.3, 0.3, 0.3, 0.3,
  0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
  0.3, 0.35, 0.35, 0.35, 0.39999999999999997, 0.39999999999999997, 0.44999999999999996, 0.49999999999999994,
  0.5499999999999999, 0.6, 0.65, 0.7000000000000001, 0.7000000000000001, 0.7000000000000001,
  0.7000000000000001, 0.7000000000000001, 0.65, 0.65, 0.6, 0.5499999999999999, 0.5499999999999999,
  0.49999999999999994, 0.44999999999999996, 0.39999999999999997, 0.35, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.35,
  0.39999999999999997, 0.44999999999999996,
];
// prettier-ignore
const GOLDEN_EMAS = [
  0.55, 0.5950000000000001, 0.6355000000000001, 0.67195, 0.704755, 0.7342795, 0.7608515499999999,
  0.7847663949999999, 0.8062897554999999, 0.82566077995, 0.843094701955, 0.8587852317595001, 0.77290670858355,
  0.6956160377251951, 0.6260544339526756, 0.563448990557408, 0.5071040915016672, 0.4563936823515005,
  0.4107543141163505, 0.36967888270471544, 0.3327109944342439, 0.2994398949908195, 0.2694959054917376,
  0.24254631494256382, 0.21829168344830743, 0.1964625151034767, 0.17681626359312905, 0.15913463723381616,
  0.14322117351043454, 0.1288990561593911, 0.11600915054345198, 0.10440823548910678, 0.0939674119401961,
  0.0845706707461765, 0.07611360367155885, 0.06850224330440297, 0.06165201897396267, 0.05548681707656641,
  0.049938135368909765, 0.04494432183201879, 0.04044988964881691, 0.036404900683935225, 0.1327644106155417,
  0.11948796955398754, 0.20753917259858878, 0.18678525533872992, 0.26810672980485695, 0.24129605682437125,
  0.3171664511419341, 0.28544980602774067, 0.3569048254249666, 0.42121434288246995, 0.37909290859422295,
  0.44118361773480064, 0.49706525596132056, 0.44735873036518853, 0.5026228573286697, 0.5523605715958028,
  0.4971245144362225, 0.5474120629926003, 0.5926708566933403, 0.5334037710240063, 0.5800633939216057,
  0.622057054529445, 0.5598513490765006, 0.6038662141688506, 0.6434795927519655, 0.579131633476769,
  0.5212184701290921, 0.4690966231161829, 0.5221869608045646, 0.4699682647241082, 0.42297143825169736,
  0.48067429442652765, 0.4326068649838749, 0.3893461784854874, 0.45041156063693866, 0.4053704045732448,
  0.3648333641159203, 0.4283500277043283, 0.38551502493389544, 0.34696352244050593, 0.4122671701964553,
  0.3710404531768098, 0.3339364078591288, 0.4005427670732159, 0.46048849036589434, 0.514439641329305,
  0.5629956771963744, 0.606696109476737, 0.6460264985290634,
];

describe("MoralFilter constants", () => {
  it("pins the reference's calibration", () => {
    expect(MORAL_FILTER_DEFAULTS).toEqual({
      initialThreshold: 0.5,
      minThreshold: 0.3,
      maxThreshold: 0.9,
      deadBand: 0.05,
      emaAlpha: 0.1,
      step: 0.05,
    });
    const filter = new MoralFilter();
    expect(filter.threshold).toBe(0.5);
    expect(filter.ema).toBe(0.5);
    expect(filter.options).toEqual(MORAL_FILTER_DEFAULTS);
  });
});

describe("MoralFilter worked examples (core.md §1–2)", () => {
  it("one accept from 0.5: ema 0.55, error 0.050000000000000044 is outside the band, threshold 0.55", () => {
    const filter = new MoralFilter();
    filter.adapt(true);
    expect(Object.is(filter.ema, 0.55)).toBe(true);
    expect(filter.ema - 0.5).toBe(0.050000000000000044);
    expect(Object.is(filter.threshold, 0.55)).toBe(true);
  });

  it("one reject from 0.5: ema 0.45, error −0.04999999999999999 is inside the band, threshold stays", () => {
    const filter = new MoralFilter();
    filter.adapt(false);
    expect(Object.is(filter.ema, 0.45)).toBe(true);
    expect(filter.ema - 0.5).toBe(-0.04999999999999999);
    expect(Object.is(filter.threshold, 0.5)).toBe(true);
  });

  it("follows the reference's trajectory bit for bit", () => {
    const filter = new MoralFilter();
    const thresholds: number[] = [];
    const emas: number[] = [];
    for (const c of GOLDEN_SEQUENCE) {
      filter.adapt(c === "A");
      thresholds.push(filter.threshold);
      emas.push(filter.ema);
    }
    // toEqual uses Object.is for numbers: any difference in the last bit fails.
    expect(thresholds).toEqual(GOLDEN_THRESHOLDS);
    expect(emas).toEqual(GOLDEN_EMAS);
  });

  it("the dead band is exclusive: |error| exactly equal to it does not move the threshold", () => {
    // alpha 0.5 makes the arithmetic exact: one accept from 0.5 gives ema 0.75, error 0.25.
    const inside = new MoralFilter({ emaAlpha: 0.5, deadBand: 0.25 });
    inside.adapt(true);
    expect(inside.ema).toBe(0.75);
    expect(inside.threshold).toBe(0.5);
    const outside = new MoralFilter({ emaAlpha: 0.5, deadBand: 0.2499 });
    outside.adapt(true);
    expect(outside.threshold).toBe(0.55);
  });

  it("many accepts drive the threshold to 0.9 and keep it there (W3: stricter because it accepts)", () => {
    const filter = new MoralFilter();
    for (let i = 0; i < 8; i++) filter.adapt(true);
    expect(filter.threshold).toBe(0.9);
    for (let i = 0; i < 200; i++) filter.adapt(true);
    expect(filter.threshold).toBe(0.9);
  });

  it("many rejects drive the threshold to 0.3 and keep it there", () => {
    const filter = new MoralFilter();
    for (let i = 0; i < 200; i++) filter.adapt(false);
    expect(filter.threshold).toBe(0.3);
  });
});

describe("MoralFilter.evaluate", () => {
  it("accepts at or above max, rejects below min, otherwise compares with the threshold (inclusive)", () => {
    const filter = new MoralFilter();
    filter.setThreshold(0.9);
    expect(filter.evaluate(0.9)).toBe(true);
    expect(filter.evaluate(0.8999)).toBe(false);
    filter.setThreshold(0.3);
    expect(filter.evaluate(0.3)).toBe(true);
    expect(filter.evaluate(0.29999999999999993)).toBe(false);
    filter.setThreshold(0.6);
    expect(filter.evaluate(0.6)).toBe(true);
    expect(filter.evaluate(0.5999999999999999)).toBe(false);
    expect(filter.evaluate(1)).toBe(true);
    expect(filter.evaluate(0)).toBe(false);
  });

  it("never accepts a non-finite value", () => {
    const filter = new MoralFilter();
    expect(filter.evaluate(Number.NaN)).toBe(false);
    expect(filter.evaluate(Number.POSITIVE_INFINITY)).toBe(false);
    expect(filter.evaluate(Number.NEGATIVE_INFINITY)).toBe(false);
  });

  it("has no side effects", () => {
    const filter = new MoralFilter();
    for (const v of [0, 0.5, 0.95, Number.NaN]) filter.evaluate(v);
    expect(filter.threshold).toBe(0.5);
    expect(filter.ema).toBe(0.5);
  });
});

describe("MoralFilter options, override and reset", () => {
  it.each([
    ["minThreshold", { minThreshold: 0.9, maxThreshold: 0.9 }],
    ["minThreshold", { minThreshold: 0.95 }],
    ["emaAlpha", { emaAlpha: 0 }],
    ["emaAlpha", { emaAlpha: 1.5 }],
    ["deadBand", { deadBand: -0.01 }],
    ["step", { step: 0 }],
    ["initialThreshold", { initialThreshold: Number.NaN }],
    ["maxThreshold", { maxThreshold: Number.POSITIVE_INFINITY }],
  ] as const)("refuses an invalid %s", (name, options) => {
    expect(() => new MoralFilter(options)).toThrow(RangeError);
    expect(() => new MoralFilter(options)).toThrow(name);
  });

  it("treats undefined options as defaults and clamps the initial threshold into range", () => {
    expect(new MoralFilter({ initialThreshold: undefined }).threshold).toBe(0.5);
    expect(new MoralFilter({ initialThreshold: 0.1 }).threshold).toBe(0.3);
    expect(new MoralFilter({ initialThreshold: 2 }).threshold).toBe(0.9);
    expect(new MoralFilter({ initialThreshold: 0.95, maxThreshold: 0.97 }).threshold).toBe(0.95);
  });

  it("reset returns to the configured initial threshold and ema 0.5 (W15)", () => {
    const filter = new MoralFilter({ initialThreshold: 0.7 });
    for (let i = 0; i < 30; i++) filter.adapt(false);
    expect(filter.threshold).toBe(0.3);
    filter.reset();
    expect(filter.threshold).toBe(0.7);
    expect(filter.ema).toBe(0.5);
  });

  it("setThreshold clamps into [min, max], keeps the ema and refuses non-finite values", () => {
    const filter = new MoralFilter();
    filter.adapt(true);
    filter.setThreshold(0.05);
    expect(filter.threshold).toBe(0.3);
    filter.setThreshold(1.5);
    expect(filter.threshold).toBe(0.9);
    filter.setThreshold(0.42);
    expect(filter.threshold).toBe(0.42);
    expect(filter.ema).toBe(0.55);
    expect(() => {
      filter.setThreshold(Number.NaN);
    }).toThrow(RangeError);
    expect(() => {
      filter.setThreshold(Number.NEGATIVE_INFINITY);
    }).toThrow(RangeError);
    expect(filter.threshold).toBe(0.42);
  });
});

describe("MoralFilter snapshots", () => {
  it("writes a MORL v1 section with threshold and ema as f64", () => {
    const filter = new MoralFilter();
    filter.adapt(true);
    const bytes = snapshotBytes(filter);
    expect(bytes.length).toBe(4 + 4 + 8 + 8);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("MORL");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(4, true)).toBe(1);
    expect(view.getFloat64(8, true)).toBe(0.55);
    expect(view.getFloat64(16, true)).toBe(0.55);
  });

  it("refuses a wrong tag, an unknown version, truncation and corrupt values", () => {
    const bytes = snapshotBytes(new MoralFilter());
    const wrongTag = bytes.slice();
    wrongTag[0] = "X".charCodeAt(0);
    expect(() => MoralFilter.restore(new BinaryReader(wrongTag))).toThrow(SnapshotFormatError);
    const wrongVersion = bytes.slice();
    wrongVersion[4] = 2;
    expect(() => MoralFilter.restore(new BinaryReader(wrongVersion))).toThrow(SnapshotFormatError);
    expect(() => MoralFilter.restore(new BinaryReader(bytes.subarray(0, 20)))).toThrow(SnapshotFormatError);
    const badEma = new BinaryWriter().section("MORL", 1).f64(0.5).f64(1.5).finish();
    expect(() => MoralFilter.restore(new BinaryReader(badEma))).toThrow(SnapshotFormatError);
    const badThreshold = new BinaryWriter().section("MORL", 1).f64(Number.NaN).f64(0.5).finish();
    expect(() => MoralFilter.restore(new BinaryReader(badThreshold))).toThrow(SnapshotFormatError);
  });

  it("clamps a restored threshold into bounds configured since the snapshot", () => {
    const filter = new MoralFilter();
    for (let i = 0; i < 10; i++) filter.adapt(true);
    const restored = MoralFilter.restore(new BinaryReader(snapshotBytes(filter)), { maxThreshold: 0.8 });
    expect(restored.threshold).toBe(0.8);
    expect(restored.ema).toBe(filter.ema);
  });

  it("property: restore(snapshot(x)) then the same operations gives identical state", () => {
    fc.assert(
      fc.property(optionsArb, fc.array(opArb), fc.array(opArb), (options, before, after) => {
        const original = new MoralFilter(options);
        for (const op of before) apply(original, op);
        const bytes = snapshotBytes(original);
        const reader = new BinaryReader(bytes);
        const copy = MoralFilter.restore(reader, options);
        expect(reader.done).toBe(true);
        expect(snapshotBytes(copy)).toEqual(bytes);
        for (const op of after) {
          apply(original, op);
          apply(copy, op);
          expect(Object.is(copy.threshold, original.threshold)).toBe(true);
          expect(Object.is(copy.ema, original.ema)).toBe(true);
        }
      }),
    );
  });
});

describe("MoralFilter invariants (core.md §12)", () => {
  it("1: the threshold stays in [min, max] after construction and any adapt sequence", () => {
    fc.assert(
      fc.property(optionsArb, fc.array(fc.boolean(), { maxLength: 300 }), (options, decisions) => {
        const filter = new MoralFilter(options);
        const inRange = (): boolean =>
          filter.threshold >= options.minThreshold && filter.threshold <= options.maxThreshold;
        expect(inRange()).toBe(true);
        for (const accepted of decisions) {
          filter.adapt(accepted);
          expect(inRange()).toBe(true);
        }
      }),
    );
  });

  it("2: the ema stays in [0, 1] and rises monotonically towards 1 under all accepts", () => {
    fc.assert(
      fc.property(
        optionsArb,
        fc.array(fc.boolean(), { maxLength: 200 }),
        fc.integer({ min: 1, max: 300 }),
        (options, decisions, accepts) => {
          const filter = new MoralFilter(options);
          for (const accepted of decisions) {
            filter.adapt(accepted);
            expect(filter.ema).toBeGreaterThanOrEqual(0);
            expect(filter.ema).toBeLessThanOrEqual(1);
          }
          for (let i = 0; i < accepts; i++) {
            const before = filter.ema;
            filter.adapt(true);
            expect(filter.ema).toBeGreaterThanOrEqual(before);
            expect(filter.ema).toBeLessThanOrEqual(1);
            if (before < 0.999) expect(filter.ema).toBeGreaterThan(before);
          }
        },
      ),
    );
  });

  it("3: evaluate accepts every finite v ≥ max and rejects every v < min, whatever the state", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 100 }),
        fc.double({ min: 0.9, max: 1e6, noNaN: true }),
        fc.double({ min: -1e6, max: 0.3, noNaN: true, maxExcluded: true }),
        (ops, high, low) => {
          const filter = new MoralFilter();
          for (const op of ops) apply(filter, op);
          expect(filter.evaluate(high)).toBe(true);
          expect(filter.evaluate(low)).toBe(false);
          expect(filter.evaluate(0.9)).toBe(true);
        },
      ),
    );
  });

  it("3b: inside [min, max) evaluate is exactly `value ≥ threshold`", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 100 }),
        fc.double({ min: 0.3, max: 0.9, noNaN: true }),
        (ops, v) => {
          const filter = new MoralFilter();
          for (const op of ops) apply(filter, op);
          expect(filter.evaluate(v)).toBe(v >= 0.9 || v >= filter.threshold);
        },
      ),
    );
  });

  it("4: adapt moves the threshold by exactly 0 or ±step before clamping, in the direction of the error", () => {
    fc.assert(
      fc.property(optionsArb, fc.array(opArb, { maxLength: 200 }), (options, ops) => {
        const filter = new MoralFilter(options);
        const { minThreshold: min, maxThreshold: max, step, deadBand } = options;
        const clamp = (x: number): number => Math.max(min, Math.min(x, max));
        for (const op of ops) {
          const before = filter.threshold;
          apply(filter, op);
          if (op.kind !== "adapt") continue;
          const error = filter.ema - 0.5;
          const expected = Math.abs(error) > deadBand ? clamp(before + (error > 0 ? step : -step)) : before;
          expect(Object.is(filter.threshold, expected)).toBe(true);
          expect([before, clamp(before + step), clamp(before - step)]).toContain(filter.threshold);
        }
      }),
    );
  });
});
