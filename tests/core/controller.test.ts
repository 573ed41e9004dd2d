/**
 * The cognitive controller: the spec's process-event order, with the reference's weaknesses
 * W1–W5 fixed (each test below fails on the reference behaviour), invariants 11–12, and
 * bit-for-bit snapshot/restore.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CognitiveController, type ControllerOptions } from "../../src/core/controller.js";

const DIM = 8;

function unit(seed: number, dim = DIM): Float32Array {
  // mulberry32: distinct, well-spread vectors for distinct seeds.
  const v = new Float32Array(dim);
  let x = seed | 0;
  for (let i = 0; i < dim; i++) {
    x = (x + 0x6d2b79f5) | 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    v[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return v;
}

function make(overrides: Partial<ControllerOptions> = {}) {
  const clock = { now: 0 };
  let rss = 100 * 2 ** 20;
  const controller = new CognitiveController({
    dimension: DIM,
    pelmCapacity: 64,
    phaseTolerance: 0.15,
    clock: () => clock.now,
    memory: () => ({ rssBytes: rss, heapUsedBytes: 0 }),
    ...overrides,
  });
  return {
    controller,
    clock,
    setRss: (bytes: number) => {
      rss = bytes;
    },
  };
}

describe("CognitiveController", () => {
  it("accepts an event: step 1, stored once, note processed", () => {
    const { controller } = make();
    const outcome = controller.processEvent(unit(1), 0.95);
    expect(outcome).toMatchObject({
      accepted: true,
      rejection: undefined,
      note: "processed",
      memoryUpdated: true,
    });
    expect(outcome.state).toMatchObject({ step: 1, phase: "wake", pelmUsed: 1, pelmCapacity: 64 });
    expect(outcome.state.norms.l1).toBeGreaterThan(0);
  });

  it("rejects morally without writing memory; the threshold follows the spec's asymmetric dead band", () => {
    const { controller } = make();
    const outcome = controller.processEvent(unit(1), 0.1);
    expect(outcome).toMatchObject({
      accepted: false,
      rejection: "moral",
      note: "morally rejected",
      memoryUpdated: false,
    });
    expect(outcome.state.pelmUsed).toBe(0);
    expect(outcome.state.moralThreshold).toBe(0.5);
    // From ema 0.45 one accept gives ema 0.505: inside the dead band, no move.
    expect(controller.processEvent(unit(2), 0.95).state.moralThreshold).toBe(0.5);
    // From a fresh filter one accept gives ema 0.55, error 0.050000000000000044 > 0.05: up a step.
    expect(make().controller.processEvent(unit(2), 0.95).state.moralThreshold).toBe(0.55);
  });

  it("W2: sleep never locks up; refused sleep events step the rhythm and the engine returns to wake", () => {
    const { controller } = make();
    const phases: string[] = [];
    for (let i = 0; i < 22; i++) phases.push(controller.processEvent(unit(i), 0.95).state.phase);
    // Reference: after 8 accepted events it sleeps forever. Here: period 11, 8 wake then 3 sleep.
    expect(phases.slice(0, 11)).toEqual([
      "wake",
      "wake",
      "wake",
      "wake",
      "wake",
      "wake",
      "wake",
      "sleep",
      "sleep",
      "sleep",
      "wake",
    ]);
    expect(phases.slice(11)).toEqual(phases.slice(0, 11));
  });

  it("W2/W3: a sleep refusal names the reason, leaves memory and the moral filter untouched", () => {
    const { controller } = make();
    for (let i = 0; i < 8; i++) controller.processEvent(unit(i), 0.95);
    const before = controller.state();
    const refused = controller.processEvent(unit(99), 0.95);
    expect(refused).toMatchObject({ accepted: false, rejection: "sleep_phase", memoryUpdated: false });
    expect(refused.note).toBe("sleep phase: 3 more event(s) until wake");
    expect(refused.state.pelmUsed).toBe(before.pelmUsed);
    expect(refused.state.moralThreshold).toBe(before.moralThreshold);
    expect(refused.state.moralEma).toBe(before.moralEma);
    expect(refused.state.norms).toEqual(before.norms);
  });

  it("property: whatever the moral values, the engine is never asleep for more than sleepDuration events in a row", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (values, wakeDuration, sleepDuration) => {
          const { controller } = make({ rhythm: { wakeDuration, sleepDuration } });
          let asleep = 0;
          for (const [i, value] of values.entries()) {
            const phase = controller.processEvent(unit(i), value).state.phase;
            asleep = phase === "sleep" ? asleep + 1 : 0;
            if (asleep > sleepDuration) return false;
          }
          return true;
        },
      ),
    );
  });

  it("W4: an event over the processing-time budget writes nothing; three in a row engage the brake", () => {
    const clock = { now: 0 };
    let calls = 0;
    const { controller } = make({
      limits: { maxProcessingTimeMs: 5 },
      // Each clock read advances 10 ms: every event is over budget before the write.
      clock: () => (calls++, (clock.now += 10)),
    });
    const outcome = controller.processEvent(unit(1), 0.95);
    expect(outcome).toMatchObject({
      accepted: false,
      rejection: "processing_time_exceeded",
      memoryUpdated: false,
    });
    expect(outcome.state.pelmUsed).toBe(0);
    expect(outcome.state.norms).toEqual({ l1: 0, l2: 0, l3: 0 });
    controller.processEvent(unit(2), 0.95);
    const third = controller.processEvent(unit(3), 0.95);
    expect(third.state.emergency).toMatchObject({ active: true, reason: "processing_time_exceeded" });
    expect(calls).toBeGreaterThan(0);
  });

  it("W1: process memory over the limit engages the brake, and the engine recovers by itself", () => {
    const { controller, clock, setRss } = make({ limits: { rssLimitBytes: 200 * 2 ** 20 } });
    controller.processEvent(unit(1), 0.95);
    setRss(300 * 2 ** 20);
    const tripped = controller.processEvent(unit(2), 0.95);
    expect(tripped).toMatchObject({ rejection: "process_memory_exceeded" });
    expect(tripped.state.emergency).toMatchObject({ active: true, reason: "process_memory_exceeded" });
    setRss(100 * 2 ** 20);
    const frozen = controller.state();
    // Refused calls leave all state unchanged (invariant 11) ...
    for (let i = 0; i < 20; i++) {
      clock.now += 1000;
      const refused = controller.processEvent(unit(i), 0.95);
      if (!refused.state.emergency.active) break;
      expect(refused).toMatchObject({ rejection: "emergency_shutdown" });
      expect(refused.state.step).toBe(frozen.step);
      expect(refused.state.pelmUsed).toBe(frozen.pelmUsed);
    }
    // ... and the supervisor's ticks bring it back without any manual step (reference: never).
    for (let i = 0; i < 120 && controller.state().emergency.active; i++) {
      clock.now += 1000;
      controller.tick();
    }
    expect(controller.state().emergency).toMatchObject({ active: false, recoveryAttempts: 1 });
    expect(controller.processEvent(unit(3), 0.95).accepted).toBe(true);
  });

  it("manual emergency: refused until an operator reset; reset is idempotent", () => {
    const { controller, clock } = make();
    controller.triggerEmergency("maintenance");
    clock.now += 24 * 3600 * 1000;
    for (let i = 0; i < 20; i++) controller.tick();
    expect(controller.processEvent(unit(1), 0.95).rejection).toBe("emergency_shutdown");
    expect(controller.resetEmergency().wasActive).toBe(true);
    expect(controller.resetEmergency().wasActive).toBe(false);
    expect(controller.processEvent(unit(1), 0.95).accepted).toBe(true);
  });

  it("an all-zero vector is refused before any state changes", () => {
    const { controller } = make();
    const before = controller.snapshot();
    expect(() => controller.processEvent(new Float32Array(DIM), 0.95)).toThrow(/zero norm/);
    expect(Buffer.from(controller.snapshot()).equals(Buffer.from(before))).toBe(true);
  });

  it("W5: the store bound is checked at construction", () => {
    expect(() => make({ limits: { maxStoreBytes: 1000 } })).toThrow(/above the bound/);
  });

  it("setMoralThreshold clamps into the filter's bounds and reports the previous value", () => {
    const { controller } = make();
    expect(controller.setMoralThreshold(0.7)).toEqual({ previous: 0.5, current: 0.7 });
    expect(controller.setMoralThreshold(0.95).current).toBe(0.9);
  });

  it("invariant 12: N events → step N and pelmUsed = accepted events (capacity permitting)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }), (values) => {
        const { controller } = make();
        let accepted = 0;
        for (const [i, value] of values.entries())
          if (controller.processEvent(unit(i), value).accepted) accepted++;
        const state = controller.state();
        return state.step === values.length && state.pelmUsed === Math.min(accepted, 64);
      }),
    );
  });

  it("property: a restored controller behaves identically to the original for any following events", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }),
        (before, after) => {
          const a = make();
          for (const [i, value] of before.entries()) a.controller.processEvent(unit(i), value);
          const b = make();
          const restored = CognitiveController.restore(a.controller.snapshot(), b.controller.options);
          for (const [i, value] of after.entries()) {
            const x = a.controller.processEvent(unit(1000 + i), value);
            const y = restored.processEvent(unit(1000 + i), value);
            expect(y.state).toEqual(x.state);
            expect(y.note).toBe(x.note);
          }
          const query = unit(7);
          expect(restored.retrieve(query, 5)).toEqual(a.controller.retrieve(query, 5));
          expect(Buffer.from(restored.snapshot()).equals(Buffer.from(a.controller.snapshot()))).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("memory trigger on the V8 heap", () => {
  it("engages the brake when the heap in use passes its limit, even with resident memory low", () => {
    let heap = 10;
    const controller = new CognitiveController({
      dimension: 4,
      pelmCapacity: 8,
      phaseTolerance: 0.15,
      limits: { rssLimitBytes: 1_000, heapLimitBytes: 100 },
      clock: () => 0,
      memory: () => ({ rssBytes: 10, heapUsedBytes: heap }),
    });
    expect(controller.processEvent(new Float32Array([1, 0, 0, 0]), 0.95).accepted).toBe(true);
    heap = 150;
    const refused = controller.processEvent(new Float32Array([0, 1, 0, 0]), 0.95);
    expect(refused.rejection).toBe("process_memory_exceeded");
    expect(controller.state().emergency.active).toBe(true);
  });
});
