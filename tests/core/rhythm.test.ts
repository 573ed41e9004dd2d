/**
 * The cognitive rhythm (core.md §2): the default period of 11, the phase constants, the
 * refusal of non-integer durations, invariant 5 of core.md §12 as properties, and the
 * property behind the W2 fix: stepping on every call always wakes up within sleepDuration.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BinaryReader, BinaryWriter, SnapshotFormatError } from "../../src/core/binary.js";
import {
  CognitiveRhythm,
  MAX_TOKENS_BY_PHASE,
  PHASE_VALUES,
  RHYTHM_DEFAULTS,
  type Phase,
} from "../../src/core/rhythm.js";

const durationArb = fc.integer({ min: 1, max: 25 });

function snapshotBytes(rhythm: CognitiveRhythm): Uint8Array {
  const writer = new BinaryWriter();
  rhythm.snapshot(writer);
  return writer.finish();
}

function stateOf(rhythm: CognitiveRhythm): string {
  return `${rhythm.phase}:${rhythm.counter}`;
}

describe("CognitiveRhythm constants", () => {
  it("pins the reference's calibration and phase encodings", () => {
    expect(RHYTHM_DEFAULTS).toEqual({ wakeDuration: 8, sleepDuration: 3 });
    expect(PHASE_VALUES).toEqual({ wake: 0.1, sleep: 0.9 });
    expect(MAX_TOKENS_BY_PHASE).toEqual({ wake: 2048, sleep: 150 });
  });

  it("starts awake with the full wake duration", () => {
    const rhythm = new CognitiveRhythm();
    expect(rhythm.phase).toBe("wake");
    expect(rhythm.counter).toBe(8);
    expect(rhythm.isWake()).toBe(true);
    expect(rhythm.isSleep()).toBe(false);
    expect(rhythm.phaseValue).toBe(0.1);
    expect(rhythm.maxTokens).toBe(2048);
    expect(rhythm.stepsUntilWake()).toBe(0);
  });
});

describe("CognitiveRhythm with the defaults", () => {
  it("stays awake for steps 1..7, sleeps at the 8th for 3 steps, wakes again: period 11", () => {
    const rhythm = new CognitiveRhythm();
    const phases: Phase[] = [];
    for (let i = 0; i < 22; i++) {
      rhythm.step();
      phases.push(rhythm.phase);
    }
    const period: Phase[] = [...Array<Phase>(7).fill("wake"), ...Array<Phase>(3).fill("sleep"), "wake"];
    expect(phases).toEqual([...period, ...period]);
  });

  it("reports the sleep phase's encoding, token cap and steps until wake", () => {
    const rhythm = new CognitiveRhythm();
    for (let i = 0; i < 8; i++) rhythm.step();
    expect(rhythm.isSleep()).toBe(true);
    expect(rhythm.phaseValue).toBe(0.9);
    expect(rhythm.maxTokens).toBe(150);
    expect(rhythm.counter).toBe(3);
    expect(rhythm.stepsUntilWake()).toBe(3);
    rhythm.step();
    expect(rhythm.stepsUntilWake()).toBe(2);
    rhythm.step();
    rhythm.step();
    expect(rhythm.isWake()).toBe(true);
    expect(rhythm.counter).toBe(8);
  });
});

describe("CognitiveRhythm options", () => {
  it.each([
    ["wakeDuration", { wakeDuration: 0 }],
    ["wakeDuration", { wakeDuration: -3 }],
    ["wakeDuration", { wakeDuration: 2.5 }],
    ["sleepDuration", { sleepDuration: Number.NaN }],
    ["sleepDuration", { sleepDuration: Number.POSITIVE_INFINITY }],
    ["sleepDuration", { sleepDuration: 0.9 }],
  ] as const)("refuses %s that is not a positive integer (the reference truncated)", (name, options) => {
    expect(() => new CognitiveRhythm(options)).toThrow(RangeError);
    expect(() => new CognitiveRhythm(options)).toThrow(name);
  });

  it("treats undefined options as defaults", () => {
    const rhythm = new CognitiveRhythm({ wakeDuration: undefined, sleepDuration: 2 });
    expect(rhythm.wakeDuration).toBe(8);
    expect(rhythm.sleepDuration).toBe(2);
  });
});

describe("CognitiveRhythm invariants (core.md §12.5)", () => {
  it("phase ∈ {wake, sleep} and counter ∈ [1, duration of the phase] after every step", () => {
    fc.assert(
      fc.property(durationArb, durationArb, fc.integer({ min: 0, max: 200 }), (wake, sleep, steps) => {
        const rhythm = new CognitiveRhythm({ wakeDuration: wake, sleepDuration: sleep });
        for (let i = 0; i <= steps; i++) {
          expect(["wake", "sleep"]).toContain(rhythm.phase);
          expect(rhythm.isWake()).toBe(rhythm.phase === "wake");
          expect(rhythm.isSleep()).toBe(rhythm.phase === "sleep");
          const duration = rhythm.isWake() ? wake : sleep;
          expect(rhythm.counter).toBeGreaterThanOrEqual(1);
          expect(rhythm.counter).toBeLessThanOrEqual(duration);
          rhythm.step();
        }
      }),
    );
  });

  it("is periodic with period wake + sleep, with exactly wakeDuration wake states per period", () => {
    fc.assert(
      fc.property(durationArb, durationArb, fc.integer({ min: 0, max: 60 }), (wake, sleep, offset) => {
        const period = wake + sleep;
        const rhythm = new CognitiveRhythm({ wakeDuration: wake, sleepDuration: sleep });
        for (let i = 0; i < offset; i++) rhythm.step();
        const states: string[] = [];
        let wakeStates = 0;
        for (let i = 0; i < 2 * period; i++) {
          states.push(stateOf(rhythm));
          if (i < period && rhythm.isWake()) wakeStates += 1;
          rhythm.step();
        }
        expect(states.slice(period)).toEqual(states.slice(0, period));
        expect(wakeStates).toBe(wake);
        // No shorter period: the phase sequence over one period holds every distinct state once.
        expect(new Set(states.slice(0, period)).size).toBe(period);
      }),
    );
  });

  it("W2: stepping on every call wakes up after exactly stepsUntilWake() ≤ sleepDuration steps", () => {
    fc.assert(
      fc.property(durationArb, durationArb, fc.integer({ min: 0, max: 200 }), (wake, sleep, steps) => {
        const rhythm = new CognitiveRhythm({ wakeDuration: wake, sleepDuration: sleep });
        for (let i = 0; i < steps; i++) rhythm.step();
        const until = rhythm.stepsUntilWake();
        expect(until).toBeLessThanOrEqual(sleep);
        expect(until === 0).toBe(rhythm.isWake());
        for (let i = 0; i < until; i++) {
          expect(rhythm.isSleep()).toBe(true);
          rhythm.step();
        }
        expect(rhythm.isWake()).toBe(true);
      }),
    );
  });
});

describe("CognitiveRhythm snapshots", () => {
  it("writes an RHYT v1 section", () => {
    const bytes = snapshotBytes(new CognitiveRhythm());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("RHYT");
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(1);
  });

  it("property: restore(snapshot(x)) then the same steps gives identical states", () => {
    fc.assert(
      fc.property(
        durationArb,
        durationArb,
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (wake, sleep, before, after) => {
          const original = new CognitiveRhythm({ wakeDuration: wake, sleepDuration: sleep });
          for (let i = 0; i < before; i++) original.step();
          const bytes = snapshotBytes(original);
          const reader = new BinaryReader(bytes);
          const copy = CognitiveRhythm.restore(reader);
          expect(reader.done).toBe(true);
          expect(snapshotBytes(copy)).toEqual(bytes);
          expect([copy.wakeDuration, copy.sleepDuration]).toEqual([wake, sleep]);
          for (let i = 0; i < after; i++) {
            original.step();
            copy.step();
            expect(stateOf(copy)).toBe(stateOf(original));
          }
        },
      ),
    );
  });

  it("refuses inconsistent snapshots", () => {
    const write = (wake: number, sleep: number, phase: number, counter: number): BinaryReader =>
      new BinaryReader(
        new BinaryWriter().section("RHYT", 1).u53(wake).u53(sleep).u8(phase).u53(counter).finish(),
      );
    expect(() => CognitiveRhythm.restore(write(8, 3, 2, 1))).toThrow(SnapshotFormatError);
    expect(() => CognitiveRhythm.restore(write(8, 3, 1, 4))).toThrow(SnapshotFormatError);
    expect(() => CognitiveRhythm.restore(write(8, 3, 0, 0))).toThrow(SnapshotFormatError);
    expect(() => CognitiveRhythm.restore(write(0, 3, 0, 1))).toThrow(SnapshotFormatError);
    expect(CognitiveRhythm.restore(write(8, 3, 1, 3)).stepsUntilWake()).toBe(3);
    const wrongVersion = snapshotBytes(new CognitiveRhythm());
    wrongVersion[4] = 9;
    expect(() => CognitiveRhythm.restore(new BinaryReader(wrongVersion))).toThrow(SnapshotFormatError);
  });
});
