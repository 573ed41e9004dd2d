import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SnapshotFormatError } from "../../src/core/binary.js";
import { CognitiveController, type ControllerOptions } from "../../src/core/controller.js";

const DIM = 8;
const options: ControllerOptions = {
  dimension: DIM,
  pelmCapacity: 16,
  phaseTolerance: 0.15,
  rhythm: { wakeDuration: 5, sleepDuration: 2 },
  clock: () => 0,
  memory: () => ({ rssBytes: 0, heapUsedBytes: 0 }),
};

const vectorArb = fc
  .float32Array({ minLength: DIM, maxLength: DIM, min: -1, max: 1, noNaN: true, noDefaultInfinity: true })
  .filter((v) => v.some((x) => Math.abs(x) > 1e-3));

describe("the controller's journal", () => {
  it("replaying the entries of any sequence of calls rebuilds the same memory and small state", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(vectorArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), {
          maxLength: 40,
        }),
        (calls) => {
          const entries: Uint8Array[] = [];
          const live = new CognitiveController(options);
          live.setJournal((entry) => entries.push(entry));
          for (const [vector, moral, viaGenerate] of calls) {
            if (viaGenerate) {
              const admission = live.admitGeneration(moral, "short_answers");
              if (admission.kind === "admitted")
                live.recordExchange(vector, `text ${entries.length}`, admission.phase);
            } else {
              live.processEvent(vector, moral);
            }
          }
          const replayed = new CognitiveController(options);
          for (const entry of entries) replayed.replay(entry);
          const a = live.state();
          const b = replayed.state();
          expect(b.pelmUsed).toBe(a.pelmUsed);
          expect(b.norms).toEqual(a.norms);
          for (let slot = 0; slot < a.pelmUsed; slot++)
            expect(replayed.texts.get(slot)).toBe(live.texts.get(slot));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses a corrupted entry without changing anything", () => {
    const entries: Uint8Array[] = [];
    const live = new CognitiveController(options);
    live.setJournal((entry) => entries.push(entry));
    live.processEvent(new Float32Array(DIM).fill(0.5), 0.95);
    const entry = entries[0];
    if (!entry) throw new Error("no journal entry");
    const target = new CognitiveController(options);
    expect(() => {
      target.replay(entry.subarray(0, entry.length - 3));
    }).toThrow(SnapshotFormatError);
    expect(target.state().pelmUsed).toBe(0);
  });

  it("restoreFrom swaps in a snapshot's state in one step, and keeps the state on a bad snapshot", () => {
    const source = new CognitiveController(options);
    for (let i = 0; i < 4; i++) source.processEvent(new Float32Array(DIM).fill(0.1 * (i + 1)), 0.95);
    const bytes = source.snapshot();
    const target = new CognitiveController(options);
    target.processEvent(new Float32Array(DIM).fill(-0.3), 0.95);
    target.restoreFrom(bytes);
    expect(target.state()).toEqual(source.state());
    const before = target.state();
    const bad = bytes.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
    expect(() => {
      target.restoreFrom(bad.subarray(0, bad.length - 10));
    }).toThrow();
    expect(target.state()).toEqual(before);
  });
});
