import { describe, expect, it } from "vitest";
import { InFlightTracker } from "../../src/policy/in-flight.js";

describe("InFlightTracker", () => {
  it("counts started calls and forgets a finished one once, however often done() runs", () => {
    const tracker = new InFlightTracker();
    const a = tracker.start();
    tracker.start();
    expect(tracker.count).toBe(2);
    a();
    a();
    expect(tracker.count).toBe(1);
  });

  it("whenIdle resolves true when the last call ends, false on timeout", async () => {
    const tracker = new InFlightTracker();
    expect(await tracker.whenIdle(10)).toBe(true);
    const done = tracker.start();
    expect(await tracker.whenIdle(20)).toBe(false);
    const idle = tracker.whenIdle(5_000);
    setTimeout(done, 10);
    expect(await idle).toBe(true);
  });
});
